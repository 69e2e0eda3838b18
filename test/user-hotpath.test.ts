import { describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildApp } from '../src/app.js';
import { member } from './talk-helpers.js';
import { forEachStore } from './helpers/harness.js';

/**
 * The Bearer hot path keeps resolved tokens in memory on SQLite: nothing that changes the
 * database may ever be answered from a stale copy.
 */
forEachStore('User API: hot path freshness', (h) => {
  it('every change made through Kapibara is seen by the next call', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', account_email: 'optional' } });
    const person = await h.createAccount({ nickname: 'Before', email: 'b@example.com' });
    const t = await h.token(app, person);
    const me = async () => h.kapi('GET', '/v2/user/me', t.access_token);
    for (let i = 0; i < 3; i++) assert.equal((await me()).json().kakao_account.profile.nickname, 'Before');

    await h.control('PATCH', `/accounts/${person.id}`, { nickname: 'After' });
    assert.equal((await me()).json().kakao_account.profile.nickname, 'After');

    await h.control('PATCH', `/apps/${app.id}`, { consent_items: { profile_nickname: 'required', account_email: 'disabled', gender: 'optional' } });
    const ka = (await me()).json().kakao_account;
    assert.equal(ka.gender_needs_agreement, true);

    await h.kapi('POST', '/v2/user/revoke/scopes', t.access_token, { scopes: ['account_email'] });
    assert.equal((await me()).json().kakao_account.email, undefined);

    await h.kapi('POST', '/v1/user/logout', t.access_token);
    assert.equal((await me()).statusCode, 401);
  });

  it('a kept answer is never served past its token expiry or into a new year, and depends on the URL', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', age_range: 'optional', account_email: 'optional' } });
    const now = new Date(h.clock.now());
    // Born so that the person turns 20 at the next new year (in ages by year).
    const person = await h.createAccount({ nickname: 'Clocked', birthyear: String(now.getUTCFullYear() - 19) });
    const t = await h.token(app, person);
    const me = (q = '') => h.kapi('GET', `/v2/user/me${q}`, t.access_token);
    assert.equal((await me()).json().kakao_account.age_range, '15~19');
    assert.equal((await me()).json().kakao_account.age_range, '15~19');
    const only = (await me('?property_keys=%5B%22kakao_account.email%22%5D')).json();
    assert.equal(only.kakao_account.profile, undefined, 'another URL is another answer');

    // Time passes on its own (no write to the store): the token expires after 12 hours…
    h.clock.advance(43_200 * 1000);
    assert.equal((await me()).statusCode, 401);

    // …and the admin form's kept answer turns over with the year.
    const admin = () => h.kapiKey('GET', '/v2/user/me', app.admin_key, { target_id_type: 'user_id', target_id: t.user_id });
    const before = (await admin()).json().kakao_account.age_range;
    assert.equal((await admin()).json().kakao_account.age_range, before);
    const nextYear = Date.UTC(new Date(h.clock.now()).getUTCFullYear() + 1, 0, 1, 0, 0, 1);
    h.clock.advance(nextYear - h.clock.now());
    assert.equal((await admin()).json().kakao_account.age_range, '20~29');
    // The clock set back into the year before: that year's answer again, not the later one kept.
    h.clock.advance(-2000);
    assert.equal((await admin()).json().kakao_account.age_range, '15~19');
  });

  it('sending messages (an append-only log) leaves the change stamp alone; other writes move it', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', talk_message: 'optional', friends: 'optional' }, user_property_keys: ['tier'] });
    const t = await h.token(app, await h.createAccount());
    // On PostgreSQL every write also comes back as a notification: read the stamp once
    // those have arrived, and when the listener is known to be current.
    const stamp = async () => {
      await h.store.settled();
      for (let i = 0; i < 500 && h.store.changeStamp() === undefined; i++) await h.store.settled();
      return h.store.changeStamp();
    };
    const before = await stamp();
    assert.notEqual(before, undefined);
    const sent = await h.kapi('POST', '/v2/api/talk/memo/default/send', t.access_token, {
      template_object: { object_type: 'text', text: 'hi', link: { web_url: 'http://localhost:3000/' } },
    });
    assert.equal(sent.statusCode, 200, sent.body);
    assert.equal(await stamp(), before);
    // Sending to a friend counts quotas in a transaction: its counters are log rows too.
    const friend = await member(h, app, {}, ['profile_nickname', 'talk_message', 'friends']);
    const me = await member(h, app, {}, ['profile_nickname', 'talk_message', 'friends']);
    await h.befriend(me, friend);
    const atFriends = await stamp();
    const toFriend = await h.kapi('POST', '/v1/api/talk/friends/message/default/send', me.token, {
      template_object: { object_type: 'text', text: 'hi', link: { web_url: 'http://localhost:3000/' } },
      receiver_uuids: [friend.uuid],
    });
    assert.deepEqual(toFriend.json(), { successful_receiver_uuids: [friend.uuid] });
    assert.equal(await stamp(), atFriends);
    await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { tier: 'gold' } });
    assert.notEqual(await stamp(), before);
  });

  it('a rejected change does not alter what later calls see', async () => {
    const app = await h.createApp({ user_property_keys: ['tier'] });
    const t = await h.token(app, await h.createAccount());
    await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { tier: 'gold' } });
    const bad = await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { tier: 'x', nope: 'y' } });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual((await h.kapi('GET', '/v2/user/me', t.access_token)).json().properties.tier, 'gold');
  });
});

describe('User API: hot path freshness across processes (SQLite file)', () => {
  it('a commit by another connection to the same file is seen within a millisecond', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kapibara-hotpath-'));
    const file = join(dir, 'kapibara.sqlite');
    const app = await buildApp({ sqlitePath: file });
    try {
      const control = async (method: 'POST' | 'GET', url: string, payload?: object) => {
        const res = await app.inject({ method, url: `/_kapibara/v1${url}`, payload });
        assert.ok(res.statusCode < 300, res.body);
        return res.json();
      };
      const created = await control('POST', '/apps', {});
      const person = await control('POST', '/accounts', { nickname: 'Mine' });
      const t = await control('POST', `/apps/${created.id}/users/${person.id}/tokens`, {});
      const me = () => app.inject({ method: 'GET', url: '/v2/user/me', headers: { authorization: `Bearer ${t.access_token}` } });
      assert.equal((await me()).json().kakao_account.profile.nickname, 'Mine');

      const other = new Database(file);
      // Other processes' commits are looked for once a millisecond.
      const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
      other.prepare('UPDATE accounts SET nickname = ? WHERE id = ?').run('Theirs', person.id);
      await settle();
      assert.equal((await me()).json().kakao_account.profile.nickname, 'Theirs');
      other.prepare('DELETE FROM access_tokens').run();
      other.close();
      await settle();
      assert.equal((await me()).statusCode, 401);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
