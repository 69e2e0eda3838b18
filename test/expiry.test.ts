import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../src/app.js';
import { randomToken, sha256 } from '../src/core/ids.js';
import { createCode } from '../src/products/login/store.js';
import { EXPIRED_KEPT_MS, SWEEP_BATCH } from '../src/store/expiry.js';
import { eventually } from './helpers/eventually.js';
import { codeGrant, forEachStore, type Harness, type TestAccount, type TestApp } from './helpers/harness.js';

/**
 * Expired tokens, codes, AGTs, login sessions and SDK login results are removed once they
 * have been expired for a day (store/expiry.ts): by the timed sweep of a running server and
 * by POST /_kapibara/v1/expired/sweep; exports leave them out meanwhile.
 */

const LOGIN_TABLES = ['access_tokens', 'refresh_tokens', 'auth_codes', 'login_sessions', 'agts', 'login_auth_transactions'] as const;
type LoginTable = (typeof LOGIN_TABLES)[number];

/** A row of `table` expiring at `expiresAt`, written as the login flow would. */
async function insertExpiring(h: Harness, table: LoginTable, app: TestApp, person: TestAccount, expiresAt: number): Promise<void> {
  const db = h.store.db;
  const hash = sha256(randomToken(16));
  const created = expiresAt - 1000;
  if (table === 'access_tokens') {
    await db.insertInto(table).values({ token_hash: hash, app_id: app.id, account_id: person.id, refresh_hash: null, expires_at: expiresAt, created_at: created }).execute();
  } else if (table === 'refresh_tokens') {
    await db.insertInto(table).values({ token_hash: hash, app_id: app.id, account_id: person.id, expires_at: expiresAt, created_at: created, auth_time: created }).execute();
  } else if (table === 'auth_codes') {
    await db
      .insertInto(table)
      .values({ code_hash: hash, app_id: app.id, account_id: person.id, redirect_uri: 'http://localhost:3000/callback', scopes: '[]', code_challenge: null, code_challenge_method: null, nonce: null, auth_time: created, expires_at: expiresAt, used: 1, refresh_hash: null })
      .execute();
  } else if (table === 'login_sessions') {
    await db.insertInto(table).values({ session_hash: hash, account_id: person.id, created_at: created, expires_at: expiresAt }).execute();
  } else if (table === 'agts') {
    await db.insertInto(table).values({ agt_hash: hash, app_id: app.id, account_id: person.id, expires_at: expiresAt }).execute();
  } else {
    await db.insertInto(table).values({ app_id: app.id, tran_hash: hash, result: 'sealed', expires_at: expiresAt }).execute();
  }
}

async function counts(h: Harness): Promise<Record<LoginTable, number>> {
  const out = {} as Record<LoginTable, number>;
  for (const table of LOGIN_TABLES) {
    const row = await h.store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

const each = (n: number) => Object.fromEntries(LOGIN_TABLES.map((t) => [t, n])) as Record<LoginTable, number>;

forEachStore('Expired login records', (h) => {
  async function setup() {
    const app = await h.createApp();
    const person = await h.createAccount();
    return { app, person };
  }

  it('the sweep removes what has been expired for longer than a day, and keeps what was expired less long or is live', async () => {
    const { app, person } = await setup();
    const now = h.clock.now();
    for (const table of LOGIN_TABLES) {
      await insertExpiring(h, table, app, person, now - EXPIRED_KEPT_MS - 60_000); // long expired
      await insertExpiring(h, table, app, person, now - 60_000); // expired a minute ago
      await insertExpiring(h, table, app, person, now + 60_000); // live
    }
    const res = await h.inject({ method: 'POST', url: '/_kapibara/v1/expired/sweep', headers: { 'x-kapibara-control': '1' } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().removed, each(1));
    const before = Date.parse(res.json().expired_before);
    assert.ok(before >= now - EXPIRED_KEPT_MS && before <= h.clock.now() - EXPIRED_KEPT_MS, res.body);
    assert.deepEqual(await counts(h), each(2));
    // Nothing more to do: a second sweep removes nothing.
    assert.deepEqual((await h.control('POST', '/expired/sweep')).removed, {});
  });

  it('a sweep works in batches until nothing expired is left', async () => {
    const { app, person } = await setup();
    const expiresAt = h.clock.now() - EXPIRED_KEPT_MS - 1;
    const rows = Array.from({ length: 2 * SWEEP_BATCH + 5 }, (_, i) => ({
      token_hash: `expired-${i}`,
      app_id: app.id,
      account_id: person.id,
      refresh_hash: null,
      expires_at: expiresAt - i,
      created_at: expiresAt - 1000,
    }));
    for (let i = 0; i < rows.length; i += 500) await h.store.db.insertInto('access_tokens').values(rows.slice(i, i + 500)).execute();
    assert.deepEqual((await h.control('POST', '/expired/sweep')).removed, { access_tokens: 2 * SWEEP_BATCH + 5 });
    assert.equal((await counts(h)).access_tokens, 0);
  });

  it('an export leaves out what the sweep would remove', async () => {
    const { app, person } = await setup();
    const now = h.clock.now();
    for (const table of LOGIN_TABLES) {
      await insertExpiring(h, table, app, person, now - EXPIRED_KEPT_MS - 60_000);
      await insertExpiring(h, table, app, person, now + 60_000);
    }
    const state = (await h.inject({ method: 'GET', url: '/_kapibara/v1/state' })).json();
    for (const table of LOGIN_TABLES) {
      assert.equal(state[table].length, 1, table);
      assert.ok(state[table][0].expires_at > now, table);
    }
  });

  it('a running server sweeps on its own, and stops when closed', async () => {
    const { app, person } = await setup();
    const server = await buildApp({ store: h.store, clock: h.clock, sweepIntervalMs: 20 });
    await server.ready();
    try {
      for (const table of LOGIN_TABLES) await insertExpiring(h, table, app, person, h.clock.now() - EXPIRED_KEPT_MS - 60_000);
      await eventually(async () => (Object.values(await counts(h)).every((n) => n === 0) ? true : undefined));
      assert.deepEqual(await counts(h), each(0));
    } finally {
      await server.close();
    }
    for (const table of LOGIN_TABLES) await insertExpiring(h, table, app, person, h.clock.now() - EXPIRED_KEPT_MS - 60_000);
    await sleep(100);
    assert.deepEqual(await counts(h), each(1), 'a closed server sweeps no more');
  });

  it('the timed sweep goes by real time when the clock is ahead: tokens expired only on a clock moved forward work again when it is moved back', async () => {
    const { app, person } = await setup();
    const t = await h.token(app, person);
    await h.advanceClock(40 * 24 * 3600);
    const server = await buildApp({ store: h.store, clock: h.clock, sweepIntervalMs: 20 });
    await server.ready();
    try {
      // Well past a day after the token expired on the moved clock: a sweep by its time would have removed it.
      await sleep(300);
      assert.equal((await counts(h)).access_tokens, 1);
      // Expired by real time for longer than a day: removed whatever the clock shows.
      await insertExpiring(h, 'agts', app, person, h.clock.real() - EXPIRED_KEPT_MS - 60_000);
      await eventually(async () => ((await counts(h)).agts === 0 ? true : undefined));
      assert.equal((await counts(h)).agts, 0);
    } finally {
      await server.close();
    }
    await h.control('POST', '/clock', { offset_ms: 0 });
    assert.equal((await h.kapi('GET', '/v2/user/me', t.access_token)).statusCode, 200);
    // The operator's sweep goes by the platform clock, as asked.
    await h.advanceClock(40 * 24 * 3600);
    assert.equal((await h.control('POST', '/expired/sweep')).removed.access_tokens, 1);
  });

  it('a used code presented again after it expired still revokes its tokens until the sweep may remove it', async () => {
    const { app, person } = await setup();
    await h.token(app, person); // links the person
    const redirectUri = 'http://localhost:3000/callback';
    const code = await createCode(h.store.db, { appId: app.id, accountId: person.id, redirectUri, scopes: [], authTime: h.clock.now() }, h.clock.now());
    const exchange = () => codeGrant(h, app, code, redirectUri);
    const first = await exchange();
    assert.equal(first.statusCode, 200, first.body);
    const { access_token: accessToken } = first.json();
    await h.advanceClock(11 * 60); // the code has expired; its access token (6 hours) has not
    await h.control('POST', '/expired/sweep');
    const replay = await exchange();
    assert.equal(replay.statusCode, 400);
    assert.equal(replay.json().error_code, 'KOE320');
    assert.equal((await h.kapi('GET', '/v1/user/access_token_info', accessToken)).statusCode, 401, 'the replay revoked the first use');
    // A day after its expiry the code goes.
    await h.advanceClock(EXPIRED_KEPT_MS / 1000);
    assert.equal((await h.control('POST', '/expired/sweep')).removed.auth_codes, 1);
  });
});
