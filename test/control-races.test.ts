import { it } from './helpers/node-test.js';
import { ControlError } from '../src/core/errors.js';
import { retryable } from '../src/control/routes.js';
import { againIfRolledBack } from '../src/db/dialect.js';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { CONTROL_HEADERS, assertApiError, forEachStore, refreshGrant, type Harness } from './helpers/harness.js';
import { storyApp } from './fixtures/story.js';
import { member, talkApp } from './talk-helpers.js';
import { betweenCheckAndInsert } from './helpers/deliveries.js';
import { DELIVERY_ATTEMPTS } from '../src/products/message/delivery.js';
import { afterQuery, whileDeleting } from './helpers/deletes.js';

/**
 * Control-plane writes made at the same time as each other or as the calls they affect, on
 * both stores. PostgreSQL runs requests side by side: checks that read and then write (a key
 * no other app holds) let two requests through at once (a races review: two apps holding one
 * key in 5 of 10 rounds). A call under way when its person or app is deleted, or the store
 * reset, answers as it would have had it come after: the token no longer exists (-401), never
 * a 500 (the insert it made failed its foreign key).
 */

const ROUNDS = 10;
const CALLS = 24;
const memo = { template_object: { object_type: 'text', text: 'x', link: { web_url: 'http://localhost:3000' } } };

/** Memo sends, story posts and profile updates with one token, `gone` fired among them. */
async function callsAround(h: Harness, token: string, at: number, gone: () => Promise<LightMyRequestResponse>) {
  const calls: Promise<LightMyRequestResponse>[] = [];
  let removal: Promise<LightMyRequestResponse> | undefined;
  for (let i = 0; i < CALLS; i++) {
    if (i % 3 === 0) calls.push(h.kapi('POST', '/v2/api/talk/memo/default/send', token, memo));
    else if (i % 3 === 1) calls.push(h.kapi('POST', '/v1/api/story/post/note', token, { content: `story ${i}` }));
    else calls.push(h.kapi('POST', '/v1/user/update_profile', token, { properties: { nickname: `z${i}` } }));
    if (i === at) removal = gone();
  }
  const [answers, removed] = await Promise.all([Promise.all(calls), removal!]);
  assert.ok(removed.statusCode < 300, removed.body);
  for (const res of answers) {
    if (res.statusCode === 200) continue;
    assert.deepEqual([res.statusCode, res.json().code], [401, -401], `${res.statusCode} ${res.body}`);
  }
  return answers;
}

forEachStore('control-plane writes at the same time', (h) => {
  const post = (body: Record<string, unknown>) => h.inject({ method: 'POST', url: '/_kapibara/v1/apps', headers: CONTROL_HEADERS, payload: body });

  it('two apps made at once with one key, of two kinds: one is made, the other is 409 naming the app that has it', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const key = `crosskey${round}`.padEnd(32, '0');
      const answers = await Promise.all([post({ rest_api_key: key }), post({ admin_key: key })]);
      const made = answers.filter((res) => res.statusCode === 201);
      assert.equal(made.length, 1, `round ${round}: ${answers.map((res) => `${res.statusCode} ${res.body}`).join(' | ')}`);
      const refused = answers.find((res) => res.statusCode !== 201)!;
      assert.deepEqual([refused.statusCode, refused.json()], [409, { error: `app: duplicate key: ${key} is already a key of app ${made[0].json().id}` }]);
    }
  });

  it('an app given a key while another app is made with it: one of the two gets it', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const key = `changekey${round}`.padEnd(32, '0');
      const existing = await h.createApp();
      const answers = await Promise.all([
        h.inject({ method: 'PATCH', url: `/_kapibara/v1/apps/${existing.id}`, headers: CONTROL_HEADERS, payload: { native_key: key } }),
        post({ javascript_key: key }),
      ]);
      const ok = answers.filter((res) => res.statusCode < 300);
      assert.equal(ok.length, 1, `round ${round}: ${answers.map((res) => `${res.statusCode} ${res.body}`).join(' | ')}`);
      const holder = ok[0].json().id as number;
      const refused = answers.find((res) => res.statusCode >= 300)!;
      assert.deepEqual([refused.statusCode, refused.json()], [409, { error: `app: duplicate key: ${key} is already a key of app ${holder}` }]);
    }
  });

  const doomed = async () => {
    const app = await storyApp(h, { consent_items: { profile_nickname: 'required', talk_message: 'optional', story_publish: 'optional', story_read: 'optional' } });
    const me = await h.createAccount({ story_user: true });
    const t = await h.token(app, me, ['profile_nickname', 'talk_message', 'story_publish', 'story_read']);
    return { app, me, token: t.access_token };
  };
  const del = (path: string) => () => h.inject({ method: 'DELETE', url: `/_kapibara/v1${path}`, headers: CONTROL_HEADERS });

  it('calls under way when their person is deleted: each succeeds or is -401, none a 500', async () => {
    for (let round = 0; round < 8; round++) {
      const { me, token } = await doomed();
      await callsAround(h, token, 4 + round, del(`/accounts/${me.id}`));
    }
  });

  it('calls under way when their app is deleted: each succeeds or is -401, none a 500', async () => {
    for (let round = 0; round < 8; round++) {
      const { app, token } = await doomed();
      await callsAround(h, token, 4 + round, del(`/apps/${app.id}`));
    }
  });

  it('refreshes under way when their person or app is deleted: each succeeds or is invalid_grant KOE322, none a 500', async () => {
    for (let round = 0; round < 8; round++) {
      const { app, me } = await doomed();
      const t = await h.token(app, me, ['profile_nickname']);
      const refresh = () => refreshGrant(h, app, t.refresh_token);
      const calls: Promise<LightMyRequestResponse>[] = [];
      let removal: Promise<LightMyRequestResponse> | undefined;
      for (let i = 0; i < 12; i++) {
        calls.push(refresh());
        if (i === 2 + round) removal = del(round % 2 ? `/apps/${app.id}` : `/accounts/${me.id}`)();
      }
      const [answers, removed] = await Promise.all([Promise.all(calls), removal!]);
      assert.ok(removed.statusCode < 300, removed.body);
      for (const res of answers) {
        if (res.statusCode === 200) continue;
        const body = res.json();
        assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body}`);
        assert.ok(['KOE322', 'KOE101'].includes(body.error_code), `${res.statusCode} ${res.body}`);
      }
    }
  });

  it('state replaced and reset at once: each is whole, in some order (no deadlock, no 500, no "already stored")', async () => {
    for (let round = 0; round < 8; round++) {
      const doc = (n: number) => ({ version: 1, apps: [{ id: 100 + round }, { id: 200 + round }], accounts: [{ id: 1000 * (round + 1) + n }] });
      const calls = [0, 1, 2, 3].map((n) => h.inject({ method: 'PUT', url: '/_kapibara/v1/state', headers: CONTROL_HEADERS, payload: doc(n) }));
      calls.push(h.inject({ method: 'POST', url: '/_kapibara/v1/reset', headers: CONTROL_HEADERS }));
      const answers = await Promise.all(calls);
      for (const res of answers) assert.equal(res.statusCode, 200, res.body);
      const apps = await h.control('GET', '/apps');
      assert.ok(apps.length === 0 || apps.length === 2, JSON.stringify(apps.map((a: { id: number }) => a.id)));
    }
  });

  it('a send to friends whose receiver is deleted between its checks and its insert: answered as a send made after the delete, and its quota given back', async () => {
    const app = await talkApp(h, { web_domains: ['http://localhost:3000'] });
    const me = await member(h, app);
    const friend = await member(h, app);
    const bystander = await member(h, app);
    await h.befriend(me, friend);
    await h.befriend(me, bystander);
    const text = JSON.stringify({ object_type: 'text', text: 'hi', link: { web_url: 'http://localhost:3000' } });
    const send = (uuids: string[]) => h.kapi('POST', '/v1/api/talk/friends/message/default/send', me.token, { receiver_uuids: JSON.stringify(uuids), template_object: text });
    assert.equal((await send([bystander.uuid])).statusCode, 200);
    const hold = betweenCheckAndInsert(h.store, () => del(`/accounts/${friend.id}`)());
    const res = await whileDeleting(hold, () => send([bystander.uuid, friend.uuid]), () => 'the delete landed between the checks (quota reserved) and the insert');
    // As a send made after the delete: the friend's uuid is no longer one this app issued.
    assert.deepEqual([res.statusCode, res.json()], [400, { msg: 'Constraints on the parameter [receiver_uuids] are unsatisfied. Not allowed to send a message to some of receivers.', code: -2 }]);
    // Quota counts what was stored (the first send), nothing of the refused one.
    const counters = await h.store.db.selectFrom('talk_quota_counters').select(['counter_key', 'count']).where('app_id', '=', app.id).execute();
    const used = Object.fromEntries(counters.filter((c) => Number(c.count) !== 0).map((c) => [c.counter_key.replace(/:\d+$/, ''), Number(c.count)]));
    assert.deepEqual(used, { [`s:${me.id}`]: 1, [`sm:${me.id}`]: 1, [`r:${bystander.id}`]: 1, [`p:${me.id}:${bystander.id}`]: 1 });
    assert.equal((await h.control('GET', `/accounts/${me.id}/messages?limit=1`)).total_count, 1);
    assert.equal((await h.control('GET', `/accounts/${bystander.id}/messages?limit=1`)).total_count, 1);
  });

  it('a send to friends whose receiver is deleted during every delivery attempt: -7 in the kapi format after DELIVERY_ATTEMPTS (never a 500), nothing stored, no quota used', async () => {
    const app = await talkApp(h, { web_domains: ['http://localhost:3000'] });
    const me = await member(h, app);
    const friend = await member(h, app);
    await h.befriend(me, friend);
    const text = JSON.stringify({ object_type: 'text', text: 'hi', link: { web_url: 'http://localhost:3000' } });
    // The receiver's uuid names someone new at every attempt: the one it named is deleted
    // between the attempt's checks and its insert, and a person with that uuid (linked, a
    // friend) is imported in their place. A receiver merely deleted would be refused by the
    // next attempt's checks (the -2 above): only a uuid that keeps naming someone reaches the cap.
    let holder = friend.id;
    const replace = async (n: number) => {
      await h.control('DELETE', `/accounts/${holder}`);
      holder = 4200 + n;
      await h.control('POST', '/state', {
        version: 1,
        accounts: [{ id: holder, nickname: `Stand-in ${n}` }],
        app_users: [{ app_id: app.id, account_id: holder, uuid: friend.uuid, scopes: ['profile_nickname', 'friends', 'talk_message'] }],
        friendships: [
          { account_id: me.id, friend_account_id: holder, favorite: false, created_at: 0 },
          { account_id: holder, friend_account_id: me.id, favorite: false, created_at: 0 },
        ],
      });
    };
    const hold = betweenCheckAndInsert(h.store, replace, Infinity);
    const res = await whileDeleting(
      hold,
      () => h.kapi('POST', '/v1/api/talk/friends/message/default/send', me.token, { receiver_uuids: JSON.stringify([friend.uuid]), template_object: text }),
      (r) => r.body,
      DELIVERY_ATTEMPTS,
    );
    assertApiError(res, 400, -7, 'receivers were deleted while the message was being sent, each attempt: nothing was sent. Send it again.');
    assert.equal((await h.control('GET', `/accounts/${me.id}/messages?limit=1`)).total_count, 0, 'nothing stored');
    const counters = await h.store.db.selectFrom('talk_quota_counters').select('count').where('app_id', '=', app.id).execute();
    assert.deepEqual(counters.filter((c) => Number(c.count) !== 0), [], 'no quota used');
    // The uuid's last holder is there, and a send made now reaches them.
    const again = await h.kapi('POST', '/v1/api/talk/friends/message/default/send', me.token, { receiver_uuids: JSON.stringify([friend.uuid]), template_object: text });
    assert.deepEqual([again.statusCode, again.json()], [200, { successful_receiver_uuids: [friend.uuid] }]);
    assert.equal((await h.control('GET', `/accounts/${holder}/messages?limit=1`)).total_count, 1);
  });

  it('control-plane writes whose app or person is deleted right after the route looked it up: the 404 naming it, as after the delete, never a 500', async () => {
    const answers: unknown[] = [];
    const wanted: unknown[] = [];
    // `profile`: the person has a multi-profile (its id the path's last argument), and the person
    // is deleted right after the route looked the profile up; the 404 names the profile.
    const cases: { gone: 'app' | 'account'; method: 'POST' | 'PUT' | 'PATCH'; profile?: true; path: (app: number, person: number, other: number, profile: number) => string; body: (app: number, person: number, other: number) => object }[] = [
      { gone: 'account', method: 'POST', path: () => '/friendships', body: (_, person, other) => ({ account_id: person, friend_account_id: other }) },
      { gone: 'app', method: 'PUT', path: (app, person) => `/apps/${app}/users/${person}`, body: () => ({ scopes: ['profile_nickname'] }) },
      { gone: 'account', method: 'PUT', path: (app, person) => `/apps/${app}/users/${person}`, body: () => ({ scopes: ['profile_nickname'] }) },
      { gone: 'app', method: 'POST', path: (app, person) => `/apps/${app}/users/${person}/tokens`, body: () => ({}) },
      { gone: 'account', method: 'POST', path: (app, person) => `/apps/${app}/users/${person}/tokens`, body: () => ({}) },
      { gone: 'app', method: 'PUT', path: (app) => `/apps/${app}/push`, body: () => ({ token_ttl_days: 7 }) },
      { gone: 'app', method: 'PUT', path: (app) => `/apps/${app}/sharing_webhook`, body: () => ({ url: 'http://127.0.0.1:7501/hook', method: 'POST' }) },
      { gone: 'account', method: 'PUT', path: (_, person) => `/accounts/${person}/story-profile`, body: () => ({ nickname: 'N' }) },
      { gone: 'account', method: 'POST', path: (_, person) => `/accounts/${person}/stories`, body: () => ({ content: 'hi' }) },
      { gone: 'account', method: 'PUT', path: (_, person) => `/accounts/${person}/talk`, body: () => ({ messages_blocked: true }) },
      { gone: 'account', method: 'POST', path: (_, person) => `/accounts/${person}/talk/profiles`, body: () => ({ nickname: 'Work' }) },
      { gone: 'account', method: 'PATCH', profile: true, path: (_, person, __, profile) => `/accounts/${person}/talk/profiles/${profile}`, body: (_, __, other) => ({ nickname: 'Home', shown_to: [other] }) },
    ];
    for (const c of cases) {
      const app = await h.createApp({ name: 'Gone' });
      const person = await h.createAccount({ nickname: 'Gone' });
      const other = await h.createAccount({ nickname: 'Other' });
      const profile = c.profile ? (await h.control('POST', `/accounts/${person.id}/talk/profiles`, { nickname: 'Work' })).id : 0;
      const path = c.path(app.id, person.id, other.id, profile);
      const remove = () => h.control('DELETE', c.gone === 'app' ? `/apps/${app.id}` : `/accounts/${person.id}`);
      const lookUp = c.profile ? 'select * from "talk_multi_profiles" where "account_id" =' : `select * from "${c.gone === 'app' ? 'apps' : 'accounts'}" where "id" =`;
      const hold = afterQuery(h.store, lookUp, remove);
      const res = await whileDeleting(hold, () => h.inject({ method: c.method, url: `/_kapibara/v1${path}`, headers: CONTROL_HEADERS, payload: c.body(app.id, person.id, other.id) }), () => `${c.method} ${path}, ${c.gone} gone`);
      answers.push([c.method, path, c.gone, hold.held(), res.statusCode, res.json()]);
      const named = c.profile ? `multi-profile ${profile} of account ${person.id}` : c.gone === 'app' ? `app ${app.id}` : `account ${person.id}`;
      wanted.push([c.method, path, c.gone, 1, 404, { error: `${named} not found` }]);
    }
    assert.deepEqual(answers, wanted);
  });

  it('calls under way during a reset: each succeeds or is -401, none a 500', async () => {
    for (let round = 0; round < 8; round++) {
      const { token } = await doomed();
      await callsAround(h, token, 4 + round, () => h.inject({ method: 'POST', url: '/_kapibara/v1/reset', headers: CONTROL_HEADERS }));
    }
  });
});

it('an import or reset PostgreSQL ends for a deadlock or a serialization failure is a 409 saying to send it again; other errors pass as they are', () => {
  for (const code of ['40P01', '40001']) {
    const answer = retryable(Object.assign(new Error('deadlock detected'), { code }));
    assert.ok(answer instanceof ControlError);
    assert.equal(answer.status, 409);
    assert.match(answer.message, /^the state change met writes made at the same time and was rolled back \(deadlock detected\): nothing changed; send it again\.$/);
  }
  const other = Object.assign(new Error('disk full'), { code: '53100' });
  assert.equal(retryable(other), other);
});

it('a delete PostgreSQL rolls back for a deadlock is made again, up to three times in all; other errors are not', async () => {
  const deadlock = () => Object.assign(new Error('deadlock detected'), { code: '40P01' });
  let calls = 0;
  assert.equal(await againIfRolledBack(async () => (++calls < 3 ? Promise.reject(deadlock()) : true)), true);
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(againIfRolledBack(async () => (++calls, Promise.reject(deadlock()))), /deadlock detected/);
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(againIfRolledBack(async () => (++calls, Promise.reject(new Error('disk full')))), /disk full/);
  assert.equal(calls, 1);
});
