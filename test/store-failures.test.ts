import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { CompiledQuery, QueryExecutor } from 'kysely';
import type { LightMyRequestResponse } from 'fastify';
import { buildApp } from '../src/app.js';
import type { Store } from '../src/db/index.js';
import { CONTROL_HEADERS, assertApiError, form, forEachStore, type Harness } from './helpers/harness.js';
import { freshPgDatabase, storeKinds } from './helpers/stores.js';
import { describe } from './helpers/node-test.js';
import pg from 'pg';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './helpers/eventually.js';
import { freePort } from '../src/core/free-port.js';
import { openStore } from '../src/kapibara.js';

/**
 * When the store itself fails (PostgreSQL down, restarting or out of connections, a lost
 * connection, SQLite's disk full) a call is no fault of the request: every surface answers
 * in its own shape, naming the store and what it said, so a team whose CI shares a sandbox
 * sees why instead of "internal error". A write PostgreSQL rolled back for running beside
 * another says nothing was written and to send it again.
 */

/** Every query from now on fails with `error`, as the driver would throw it; returns the undo. */
function failEveryQuery(store: Store, error: Error): () => void {
  const executor = store.db.getExecutor() as QueryExecutor & { executeQuery: QueryExecutor['executeQuery'] };
  executor.executeQuery = async function (_query: CompiledQuery) {
    throw error;
  } as QueryExecutor['executeQuery'];
  // PostgreSQL's hot queries go to the pool as named prepared statements.
  const pool = store.pool as { query?: unknown } | undefined;
  if (pool) pool.query = () => Promise.reject(error);
  return () => {
    delete (executor as { executeQuery?: unknown }).executeQuery;
    if (pool) delete pool.query;
  };
}

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

async function failingFrom(h: Harness, error: Error): Promise<Record<'kapi' | 'kauth' | 'control' | 'page', LightMyRequestResponse>> {
  const app = await h.createApp();
  const person = await h.createAccount({ nickname: 'A' });
  const tokens = await h.token(app, person);
  const undo = failEveryQuery(h.store, error);
  try {
    return {
      kapi: await h.kapi('GET', '/v2/user/me', tokens.access_token),
      kauth: await h.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: tokens.refresh_token }),
      }),
      control: await h.inject({ method: 'GET', url: '/_kapibara/v1/accounts', headers: CONTROL_HEADERS }),
      page: await h.inject({ method: 'GET', url: `/_kapibara/console/people/${person.id}` }),
    };
  } finally {
    undo();
  }
}

/** Each surface's answer to a store that does not answer, naming `detail`. */
function assertStoreUnavailable(answers: Record<'kapi' | 'kauth' | 'control' | 'page', LightMyRequestResponse>, detail: RegExp): void {
  assertApiError(answers.kapi, 500, -1, /Kapibara's store does not answer/);
  assert.match(answers.kapi.json().msg, detail);
  assert.equal(answers.kauth.statusCode, 500, answers.kauth.body);
  assert.equal(answers.kauth.json().error, 'server_error');
  assert.match(answers.kauth.json().error_description, /Kapibara's store does not answer/);
  assert.match(answers.kauth.json().error_description, detail);
  assert.equal(answers.control.statusCode, 503, answers.control.body);
  assert.match(answers.control.json().error, /^Kapibara's store does not answer/);
  assert.match(answers.control.json().error, detail);
  assert.equal(answers.page.statusCode, 503, answers.page.body);
  assert.match(String(answers.page.headers['content-type']), /^text\/html/);
  assert.match(answers.page.body, /Kapibara(’|&#39;|')s store does not answer/);
}

forEachStore('A store that fails answers in each surface’s shape, naming the store', (h) => {
  it('a connection refused (PostgreSQL down or restarting): kapi -1, kauth server_error, control plane and pages 503', async () => {
    const answers = await failingFrom(h, withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'));
    assertStoreUnavailable(answers, /connect ECONNREFUSED 127\.0\.0\.1:5432/);
  });

  it('PostgreSQL out of connections or shutting down, and SQLite out of disk, say so', async () => {
    const cases: [Error, RegExp][] = [
      [withCode('sorry, too many clients already', '53300'), /too many clients already/],
      [withCode('terminating connection due to administrator command', '57P01'), /terminating connection/],
      [new Error('Connection terminated unexpectedly'), /Connection terminated unexpectedly/],
      [withCode('database or disk is full', 'SQLITE_FULL'), /database or disk is full \(SQLITE_FULL\)/],
    ];
    for (const [error, detail] of cases) assertStoreUnavailable(await failingFrom(h, error), detail);
  });

  it('a kapi call PostgreSQL rolled back for a deadlock says nothing was written and to send it again', async () => {
    const answers = await failingFrom(h, withCode('deadlock detected', '40P01'));
    assertApiError(answers.kapi, 500, -1, /rolled back \(deadlock detected\): nothing of it was written; send it again/);
    assert.equal(answers.control.statusCode, 409, answers.control.body);
    assert.match(answers.control.json().error, /rolled back \(deadlock detected\)/);
  });

  it('any other failure stays the plain internal error (nothing about the store is claimed)', async () => {
    const answers = await failingFrom(h, new TypeError('x is not a function'));
    assertApiError(answers.kapi, 500, -1, /^internal error$/);
    assert.equal(answers.control.statusCode, 500);
    assert.deepEqual(answers.control.json(), { error: 'internal error' });
  });
});

/**
 * A TCP relay between Kapibara and PostgreSQL: `cut()` drops every connection and refuses new
 * ones (the server gone), `mend()` takes them again (the server back, at the same address).
 */
async function relayTo(target: URL): Promise<{ url: string; cut(): Promise<void>; mend(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((socket) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const s of [socket, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => {
            sockets.delete(s);
            socket.destroy();
            upstream.destroy();
          });
        }
        socket.pipe(upstream).pipe(socket);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  const cut = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  };
  await listen();
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return { url: url.toString(), cut, mend: listen, close: cut };
}

if (storeKinds().includes('postgres')) {
  describe('PostgreSQL gone and back [postgres]', () => {
    it('calls name the store while PostgreSQL cannot be reached, and answer again once it can', async () => {
      const database = await freshPgDatabase();
      const relay = await relayTo(new URL(database.url));
      const app = await buildApp({ databaseUrl: relay.url, logger: false });
      const control = (method: 'GET' | 'POST', url: string, payload?: object) =>
        app.inject({ method, url: `/_kapibara/v1${url}`, headers: CONTROL_HEADERS, payload });
      try {
        const created = (await control('POST', '/apps', { redirect_uris: ['http://localhost:3000/cb'] })).json();
        const person = (await control('POST', '/accounts', { nickname: 'A' })).json();
        const tokens = (await control('POST', `/apps/${created.id}/users/${person.id}/tokens`, {})).json();
        const me = () => app.inject({ method: 'GET', url: '/v2/user/me', headers: { authorization: `Bearer ${tokens.access_token}` } });
        assert.equal((await me()).statusCode, 200);

        // A query under way on a connection lent out of the pool when the server ends it (a
        // restart, a failover): pg rejects the query and then emits 'error' on that client,
        // which nobody heard, and that ended the process.
        const lent = await app.platform.store.pool!.connect();
        const { rows } = await lent.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const underWay = lent.query('SELECT pg_sleep(30)').then(
          () => assert.fail('the query outlived its connection'),
          (err: Error) => err.message,
        );
        const admin = new pg.Client({ connectionString: database.url });
        await admin.connect();
        try {
          // Once the sleep is under way, its session is ended.
          await eventually(async () => ((await admin.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'`, [rows[0].pid])).rowCount ? true : undefined));
          await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
        } finally {
          await admin.end();
        }
        assert.match(await underWay, /terminating connection due to administrator command/);
        lent.release(true);

        await relay.cut();
        const down = await control('GET', '/accounts');
        assert.equal(down.statusCode, 503, down.body);
        assert.match(down.json().error, /^Kapibara's store does not answer \(.+\)$/);
        const health = await app.inject({ method: 'GET', url: '/_kapibara/health' });
        assert.equal(health.statusCode, 503, health.body);
        assert.match(health.json().error, /^Kapibara's store does not answer \(.+\)$/);
        assert.deepEqual([health.json().status, health.json().store.reachable], ['unavailable', false]);
        const sent = await app.inject({
          method: 'POST',
          url: '/v2/api/talk/memo/default/send',
          headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
          payload: form({ template_object: JSON.stringify({ object_type: 'text', text: 'x', link: { web_url: 'http://localhost:3000' } }) }),
        });
        assert.notEqual(sent.statusCode, 200, sent.body);
        assertApiError(sent, 500, -1, /Kapibara's store does not answer/);

        await relay.mend();
        const back = await control('GET', '/accounts');
        assert.equal(back.statusCode, 200, back.body);
        assert.equal((await me()).statusCode, 200);
        assert.equal((await app.inject({ method: 'GET', url: '/_kapibara/health' })).statusCode, 200);
      } finally {
        await app.close();
        await relay.close();
        await database.drop();
      }
    });
  });
}

/**
 * A connection of someone else's holding a lock Kapibara's writes need (a `psql` left in an
 * open transaction, another process on the SQLite file): a call waits for it a while, then
 * fails naming it, instead of stalling, and with it, once the stalled calls hold every pooled
 * connection, the whole instance. An import waits as long as it takes on PostgreSQL.
 */
for (const kind of storeKinds()) {
  describe(`A lock another connection holds [${kind}]`, () => {
    it('a call that needs it answers 503 (kapi -1) naming the lock, then works once it is let go; an import waits for it', async () => {
      const folder = mkdtempSync(join(tmpdir(), 'kapibara-lock-'));
      const database = kind === 'postgres' ? await freshPgDatabase() : undefined;
      const where = database ? { databaseUrl: database.url } : { sqlitePath: join(folder, 'kapibara.sqlite') };
      const app = await buildApp({ ...where, lockWaitMs: 200, logger: false });
      const control = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
        app.inject({ method, url: `/_kapibara/v1${url}`, headers: CONTROL_HEADERS, payload });
      /** Another connection takes the write lock: PostgreSQL's on the people and messages tables, SQLite's on the file. */
      async function holdLock(): Promise<() => Promise<void>> {
        if (database) {
          const other = new pg.Client({ connectionString: database.url });
          await other.connect();
          await other.query('BEGIN');
          await other.query('LOCK TABLE accounts, talk_messages IN EXCLUSIVE MODE');
          return async () => {
            letGo = async () => {};
            await other.query('ROLLBACK');
            await other.end();
          };
        }
        const other = new Database(join(folder, 'kapibara.sqlite'));
        other.exec('BEGIN IMMEDIATE');
        return async () => {
          letGo = async () => {};
          other.exec('ROLLBACK');
          other.close();
        };
      }
      let letGo = async () => {};
      try {
        const created = (await control('POST', '/apps', { redirect_uris: ['http://localhost:3000/cb'], consent_items: { profile_nickname: 'required', talk_message: 'optional' } })).json();
        const person = (await control('POST', '/accounts', { nickname: 'A' })).json();
        const tokens = (await control('POST', `/apps/${created.id}/users/${person.id}/tokens`, {})).json();
        const memo = () =>
          app.inject({
            method: 'POST',
            url: '/v2/api/talk/memo/default/send',
            headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
            payload: form({ template_object: JSON.stringify({ object_type: 'text', text: 'locked out', link: { web_url: 'http://localhost:3000' } }) }),
          });

        letGo = await holdLock();
        // Bounded here only so that the test fails, rather than hangs, where the call would stall.
        const stalled = new Promise<never>((_, fail) => setTimeout(() => fail(new Error('the call stalled behind the lock')), 30_000).unref());
        const refused = await Promise.race([control('POST', '/accounts', { nickname: 'B' }), stalled]);
        assert.equal(refused.statusCode, 503, refused.body);
        assert.match(refused.json().error, /^Kapibara's store gave up waiting for a lock another connection to the database held \(.+\): nothing of the call was written; send it again$/);
        const api = await Promise.race([memo(), stalled]);
        assertApiError(api, 500, -1, /^internal error: Kapibara's store gave up waiting for a lock another connection to the database held \(.+\): nothing of the call was written; send it again$/);
        await letGo();
        assert.equal((await control('POST', '/accounts', { nickname: 'B' })).statusCode, 201);
        assert.equal((await memo()).statusCode, 200);
        // Only the message sent after the lock was let go is stored.
        const chat = (await control('GET', `/accounts/${person.id}/chats/memo/messages`)).json();
        assert.deepEqual(chat.messages.map((m: { template: { text: string } }) => m.template.text), ['locked out']);

        if (database) {
          // An import is no call to give up on: it waits past the calls' bound for the lock.
          const state = (await control('GET', '/state')).json();
          letGo = await holdLock();
          const imported = control('PUT', '/state', state);
          await new Promise((resolve) => setTimeout(resolve, 1000));
          await letGo();
          const answer = await imported;
          assert.equal(answer.statusCode, 200, answer.body);
        }
      } finally {
        await letGo();
        await app.close();
        await database?.drop();
        rmSync(folder, { recursive: true, force: true });
      }
    });
  });
}

if (storeKinds().includes('postgres')) {
  describe('Starting beside a lock another connection holds [postgres]', () => {
    it('an instance that starts while a lock its migrations need is held waits for it past the calls\' bound, and comes up', async () => {
      const database = await freshPgDatabase();
      const first = await openStore({ databaseUrl: database.url });
      await first.close();
      // As an older instance's long import, or a migration of a newer one, would hold it.
      const other = new pg.Client({ connectionString: database.url });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query('LOCK TABLE kysely_migration IN ACCESS EXCLUSIVE MODE');
        const opening = openStore({ databaseUrl: database.url, lockWaitMs: 200 });
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await other.query('ROLLBACK');
        const store = await opening;
        await store.close();
      } finally {
        await other.end();
        await database.drop();
      }
    });
  });
}

describe('A PostgreSQL database that cannot be reached at start', () => {
  it('is an error naming the database, host and port and what the connection said, never the password', async () => {
    const port = await freePort();
    await assert.rejects(openStore({ databaseUrl: `postgres://kapi:s3cret@127.0.0.1:${port}/sandbox` }), (err: Error) => {
      assert.equal(err.message, `the PostgreSQL database sandbox at 127.0.0.1:${port} does not answer (connect ECONNREFUSED 127.0.0.1:${port})`);
      return true;
    });
  });
});
