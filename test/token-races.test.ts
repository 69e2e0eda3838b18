import { after, before, describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { CONTROL_HEADERS, Harness, codeGrant, forEachStore, type TestApp, type TestAccount, refreshGrant as refresh } from './helpers/harness.js';
import { eventually } from './helpers/eventually.js';
import { aroundEveryQuery, lockWaits } from './helpers/executor.js';
import { createCode } from '../src/products/login/store.js';

/**
 * Token writes made at the same time as each other, on both stores: a logout that answers
 * leaves no token of the app and person working, whatever refreshes ran beside it, and a
 * refresh token due for rotation is used once however many refreshes present it at once.
 * PostgreSQL runs requests side by side: a refresh that had read its refresh token before a
 * logout deleted it stored its new access token (and, rotating, a new refresh token) after
 * the logout's deletes (a races review: 1–10 access tokens and 24 refresh tokens survived;
 * 20 rotations of one refresh token all succeeded). SQLite took them in turn.
 */

const ROUNDS = 6;
const REFRESHES = 10;
const MONTH_AND_A_DAY_S = 31 * 86400;

async function tokensLeft(h: Harness, app: TestApp, me: TestAccount) {
  const db = h.store.db;
  const access = await db.selectFrom('access_tokens').select('token_hash').where('app_id', '=', app.id).where('account_id', '=', me.id).execute();
  const refreshes = await db.selectFrom('refresh_tokens').select('token_hash').where('app_id', '=', app.id).where('account_id', '=', me.id).execute();
  return { access: access.length, refresh: refreshes.length };
}

forEachStore('token writes at the same time', (h) => {
  it('a logout racing with refreshes leaves no access token working', async () => {
    const app = await h.createApp();
    const me = await h.createAccount();
    for (let round = 0; round < ROUNDS; round++) {
      const t = await h.token(app, me, ['profile_nickname']);
      const calls = Array.from({ length: REFRESHES }, () => refresh(h, app, t.refresh_token));
      calls.splice(round % (REFRESHES + 1), 0, h.kapi('POST', '/v1/user/logout', t.access_token));
      const answers = await Promise.all(calls);
      for (const res of answers) assert.ok(res.statusCode === 200 || res.statusCode === 400 || res.statusCode === 401, res.body);
      const issued = answers.filter((res) => res.statusCode === 200 && res.json().access_token).map((res) => res.json().access_token as string);
      for (const token of [t.access_token, ...issued]) {
        const info = await h.kapi('GET', '/v1/user/access_token_info', token);
        assert.equal(info.statusCode, 401, `round ${round}: a token still works after the logout: ${info.body}`);
      }
      assert.equal((await refresh(h, app, t.refresh_token)).statusCode, 400);
      assert.deepEqual(await tokensLeft(h, app, me), { access: 0, refresh: 0 }, `round ${round}`);
    }
  });

  it('an admin-key logout racing with rotating refreshes leaves no refresh token working', async () => {
    const app = await h.createApp();
    const me = await h.createAccount();
    for (let round = 0; round < ROUNDS; round++) {
      const t = await h.token(app, me, ['profile_nickname']);
      await h.advanceClock(MONTH_AND_A_DAY_S);
      const calls = Array.from({ length: REFRESHES }, () => refresh(h, app, t.refresh_token));
      calls.splice(round % (REFRESHES + 1), 0, h.kapiKey('POST', '/v1/user/logout', app.admin_key, { target_id_type: 'user_id', target_id: t.user_id }));
      const answers = await Promise.all(calls);
      for (const res of answers) assert.ok(res.statusCode === 200 || res.statusCode === 400, res.body);
      const handedOut = answers.map((res) => res.json().refresh_token as string | undefined).filter((rt) => rt !== undefined);
      for (const rt of handedOut) assert.equal((await refresh(h, app, rt)).statusCode, 400, `round ${round}: a new refresh token outlived the logout`);
      assert.deepEqual(await tokensLeft(h, app, me), { access: 0, refresh: 0 }, `round ${round}`);
    }
  });

  it('a refresh token due for rotation is used once, however many refreshes present it at once', async () => {
    const app = await h.createApp();
    for (const n of [2, 20]) {
      const me = await h.createAccount();
      const t = await h.token(app, me, ['profile_nickname']);
      await h.advanceClock(MONTH_AND_A_DAY_S);
      const answers = await Promise.all(Array.from({ length: n }, () => refresh(h, app, t.refresh_token)));
      const ok = answers.filter((res) => res.statusCode === 200);
      assert.equal(ok.length, 1, `${n} at once: ${answers.map((res) => res.statusCode).join(' ')}`);
      for (const res of answers) {
        if (res.statusCode === 200) continue;
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json().error, 'invalid_grant');
        assert.equal(res.json().error_code, 'KOE322');
      }
      const rotated = ok[0].json().refresh_token as string;
      assert.ok(rotated, 'the one success carries the new refresh token');
      assert.equal((await refresh(h, app, rotated)).statusCode, 200, 'the new refresh token works');
      assert.equal((await tokensLeft(h, app, me)).refresh, 1, 'one refresh token: the rotated one');
    }
  });
  it('one code exchanged twice at once: each answer is 200 or invalid_grant KOE320, and no token it gave works (docs/login.md)', async () => {
    const app = await h.createApp();
    const me = await h.createAccount();
    await h.token(app, me); // links the person
    const redirectUri = 'http://localhost:3000/callback';
    for (let round = 0; round < ROUNDS; round++) {
      const code = await createCode(h.store.db, { appId: app.id, accountId: me.id, redirectUri, scopes: [], authTime: h.clock.now() }, h.clock.now());
      const exchange = () => codeGrant(h, app, code, redirectUri);
      const answers = await Promise.all([exchange(), exchange()]);
      assert.ok(answers.some((res) => res.statusCode !== 200), 'one of the two is refused');
      for (const res of answers) {
        if (res.statusCode !== 200) {
          assert.deepEqual([res.statusCode, res.json().error, res.json().error_code], [400, 'invalid_grant', 'KOE320'], res.body);
          continue;
        }
        const info = await h.inject({ method: 'GET', url: '/v1/user/access_token_info', headers: { authorization: `Bearer ${res.json().access_token}` } });
        assert.equal(info.statusCode, 401, info.body);
        assert.equal((await refresh(h, app, res.json().refresh_token)).statusCode, 400);
      }
    }
  });
});

/**
 * A token write and a delete of its person on PostgreSQL, landed in the order that deadlocked:
 * the refresh has locked the app–person link when the person's delete starts (the delete takes
 * the person's row, then by cascade waits for the link), and the refresh then writes tokens
 * whose foreign key needs the person's row. One of the two was aborted (a 500) once PostgreSQL
 * saw the deadlock; a CI run met it at random. Now the refresh holds the person's row first.
 */
describe('a refresh and a delete of its person on PostgreSQL', () => {
  const h = new Harness('postgres');
  before(async () => h.start());
  after(async () => h.stop());

  /**
   * Runs `call`; once a statement of it matching `statement` has answered (inside its
   * transaction too: the hook is on every executor's prototype), starts `second` and lets the
   * call go on only when PostgreSQL shows `second` waiting for a lock. Returns both answers and
   * every statement sent meanwhile (a transaction made again after a deadlock shows twice).
   */
  async function secondWhileHeld<A, B>(statement: RegExp, second: () => Promise<B>, call: () => Promise<A>): Promise<{ first: A; second: B; sent: string[] }> {
    let started: Promise<B> | undefined;
    const sent: string[] = [];
    const release = aroundEveryQuery(h.store, async (query, send) => {
      sent.push(query.sql);
      const result = await send();
      if (!started && statement.test(query.sql)) {
        started = second();
        await eventually(async () => ((await lockWaits(h.store)) ? true : undefined));
      }
      return result;
    });
    let first: A;
    let after: B;
    try {
      first = await call();
      assert.ok(started, `no statement matched ${statement}`);
      after = await started;
    } finally {
      release();
    }
    return { first, second: after, sent };
  }

  it('a delete that starts once the refresh holds the link waits for it: both answer, neither a 500', async () => {
    const app = await h.createApp();
    const me = await h.createAccount();
    const t = await h.token(app, me, ['profile_nickname']);
    const { first: refreshed, second: removed, sent } = await secondWhileHeld(
      /^select \* from "app_users" .*for update$/,
      () => h.inject({ method: 'DELETE', url: `/_kapibara/v1/accounts/${me.id}`, headers: CONTROL_HEADERS }),
      () => refresh(h, app, t.refresh_token),
    );
    assert.equal(removed.statusCode, 204, removed.body);
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    // Each ran once: no deadlock rolled either back to be made again.
    assert.equal(sent.filter((q) => q.startsWith('delete from "accounts"')).length, 1);
    assert.equal((await h.kapi('GET', '/v1/user/access_token_info', refreshed.json().access_token)).statusCode, 401);
  });

  it('a reset that starts once a link write holds the person (before it locks the link) waits for it: both answer, neither a 500', async () => {
    const app = await h.createApp();
    const me = await h.createAccount();
    const t = await h.token(app, me, ['profile_nickname']);
    const { first: updated, second: reset, sent } = await secondWhileHeld(
      /^SELECT 1 FROM accounts, apps .* FOR KEY SHARE$/,
      () => h.inject({ method: 'POST', url: '/_kapibara/v1/reset', headers: CONTROL_HEADERS }),
      () => h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { nickname: 'racing' } }),
    );
    assert.ok(reset.statusCode < 300, reset.body);
    // The reset ran once: no deadlock rolled it back to be made again.
    assert.equal(sent.filter((q) => /pg_advisory_xact_lock/.test(q)).length, 1, sent.join('\n'));
    assert.ok(updated.statusCode === 200 || (updated.statusCode === 401 && updated.json().code === -401), `${updated.statusCode} ${updated.body}`);
    assert.equal((await h.control('GET', '/accounts')).length, 0);
  });
});
