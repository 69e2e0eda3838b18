import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { CONTROL_HEADERS, forEachStore } from './helpers/harness.js';

/**
 * Writes made at the same time to one app–person link, or the same first link: each one that
 * is answered with success has its effect, and none is a 500, on both stores. SQLite's one
 * connection takes requests one after another; PostgreSQL runs them side by side, where a
 * read-then-write of the link kept only the last writer's change (a parity review found
 * 2 of 10 `update_profile` keys kept, and 500s for a first link made twice at once).
 */

const N = 10;
const keys = Array.from({ length: N }, (_, i) => `key${i}`);
const scopes = ['account_email', 'friends', 'talk_message', 'story_read', 'phone_number', 'gender', 'birthday', 'age_range', 'birthyear', 'name'];
const tags = Array.from({ length: N }, (_, i) => `term${i}`);

forEachStore('concurrent writes to one link', (h) => {
  const app = () =>
    h.createApp({
      user_property_keys: keys,
      consent_items: { profile_nickname: 'required', ...Object.fromEntries(scopes.map((s) => [s, 'optional'])) },
      service_terms: tags.map((tag) => ({ tag, required: false, revocable: true })),
    });

  it('update_profile: every key sent at once is kept', async () => {
    const a = await app();
    const me = await h.createAccount();
    const t = await h.token(a, me, ['profile_nickname']);
    const answers = await Promise.all(keys.map((k) => h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { [k]: `value of ${k}` } })));
    for (const res of answers) assert.equal(res.statusCode, 200, res.body);
    const link = await h.control('GET', `/apps/${a.id}/users/${me.id}`);
    assert.deepEqual(Object.keys(link.properties).sort(), [...keys].sort());
  });

  it('service terms agreed at once are all kept, and terms revoked at once all go', async () => {
    const a = await app();
    const me = await h.createAccount();
    const t = await h.token(a, me, ['profile_nickname']);
    const agreed = await Promise.all(tags.map((tag) => h.kapi('POST', '/v2/user/upgrade/service_terms', t.access_token, { tags: tag })));
    for (const res of agreed) assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual((await h.control('GET', `/apps/${a.id}/users/${me.id}`)).terms.sort(), [...tags].sort());
    const revoked = await Promise.all(tags.map((tag) => h.kapi('POST', '/v2/user/revoke/service_terms', t.access_token, { tags: tag })));
    for (const res of revoked) assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual((await h.control('GET', `/apps/${a.id}/users/${me.id}`)).terms, []);
  });

  it('scopes revoked at once are all gone, and scopes granted at once on the control plane all kept', async () => {
    const a = await app();
    const me = await h.createAccount();
    const granted = await Promise.all(
      scopes.map((s) => h.inject({ method: 'PUT', url: `/_kapibara/v1/apps/${a.id}/users/${me.id}`, headers: CONTROL_HEADERS, payload: { scopes: [s] } })),
    );
    for (const res of granted) assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual((await h.control('GET', `/apps/${a.id}/users/${me.id}`)).scopes.sort(), [...scopes].sort());
    const t = await h.token(a, me, ['profile_nickname']);
    const revoked = await Promise.all(scopes.map((s) => h.kapi('POST', '/v2/user/revoke/scopes', t.access_token, { scopes: [s] })));
    for (const res of revoked) assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual((await h.control('GET', `/apps/${a.id}/users/${me.id}`)).scopes, ['profile_nickname']);
  });

  it('a first link made several times at once is made once, and every caller succeeds', async () => {
    const a = await app();
    const people = [await h.createAccount(), await h.createAccount()];
    const tokens = await Promise.all(
      Array.from({ length: N }, () => h.inject({ method: 'POST', url: `/_kapibara/v1/apps/${a.id}/users/${people[0].id}/tokens`, headers: CONTROL_HEADERS, payload: { scopes: ['friends'] } })),
    );
    for (const res of tokens) assert.equal(res.statusCode, 200, res.body);
    assert.equal(new Set(tokens.map((r) => r.json().user_id)).size, 1, 'one link, one user id');
    const links = await Promise.all(
      scopes.map((s) => h.inject({ method: 'PUT', url: `/_kapibara/v1/apps/${a.id}/users/${people[1].id}`, headers: CONTROL_HEADERS, payload: { scopes: [s] } })),
    );
    for (const res of links) assert.equal(res.statusCode, 200, res.body);
    assert.equal(new Set(links.map((r) => r.json().user_id)).size, 1, 'one link, one user id');
    assert.deepEqual((await h.control('GET', `/apps/${a.id}/users/${people[1].id}`)).scopes.sort(), [...scopes].sort());
  });

  it('multi-profiles shown to the same friend at once: every one is made, the friend sees one of them', async () => {
    const me = await h.createAccount();
    const friend = await h.createAccount();
    const made = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        h.inject({ method: 'POST', url: `/_kapibara/v1/accounts/${me.id}/talk/profiles`, headers: CONTROL_HEADERS, payload: { nickname: `profile ${i}`, shown_to: [friend.id] } }),
      ),
    );
    for (const res of made) assert.equal(res.statusCode, 201, res.body);
    const profiles: { shown_to: number[] }[] = await h.control('GET', `/accounts/${me.id}/talk/profiles`);
    assert.equal(profiles.length, N);
    assert.equal(profiles.filter((p) => p.shown_to.includes(friend.id)).length, 1);
  });

  it('one token unlinked or logged out several times at once: one call succeeds, the others are refused as after it', async () => {
    for (const path of ['/v1/user/unlink', '/v1/user/logout']) {
      const a = await app();
      const me = await h.createAccount();
      const t = await h.token(a, me, ['profile_nickname']);
      const answers = await Promise.all(Array.from({ length: N }, () => h.kapi('POST', path, t.access_token)));
      assert.equal(answers.filter((r) => r.statusCode === 200).length, 1, `${path}: ${answers.map((r) => r.statusCode)}`);
      for (const res of answers.filter((r) => r.statusCode !== 200)) {
        assert.equal(res.statusCode, 401, res.body);
        assert.equal(res.json().code, -401);
      }
    }
  });
});
