import { after, before, describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PgChanges } from '../src/db/pg-changes.js';
import { freshPgDatabase } from './helpers/stores.js';
import { eventually } from './helpers/eventually.js';

/**
 * The listening connection of a PostgreSQL store (db/pg-changes.ts) when the database does
 * not behave: a LISTEN refused (a hot standby during a failover), a connection gone silent
 * (a half-open socket), a close while a connection is being made. Each is made to happen
 * through a driver whose clients the test can steer; the queries still go to the database.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Steering {
  /** LISTEN is refused while set. */
  refuseListen?: boolean;
  /** LISTEN is not kept while set (it runs as a no-op, as through a pooler in transaction mode). */
  forgetListen?: boolean;
  /** The client whose checks (it notifies itself) the server never answers (they sleep instead). */
  silent?: pg.Client;
  /** Every self-notification (the start's and the checks') takes 1.5 s, over the 1 s a check may take. */
  slowProbes?: boolean;
  /** Connecting waits this long first. */
  connectDelayMs?: number;
}

function steeredDriver(steer: Steering): { driver: typeof pg; clients: pg.Client[] } {
  const clients: pg.Client[] = [];
  class SteeredClient extends pg.Client {
    constructor(config: pg.ClientConfig) {
      super(config);
      clients.push(this);
      const connect = this.connect.bind(this) as () => Promise<unknown>;
      (this as unknown as { connect: () => Promise<unknown> }).connect = async () => {
        if (steer.connectDelayMs) await sleep(steer.connectDelayMs);
        return connect();
      };
    }
    override query(...args: unknown[]): any {
      const text = args[0];
      if (steer.refuseListen && typeof text === 'string' && text.startsWith('LISTEN')) {
        return Promise.reject(new Error('cannot execute LISTEN during recovery'));
      }
      if (steer.forgetListen && typeof text === 'string' && text.startsWith('LISTEN')) args[0] = 'SELECT 1';
      const probe = typeof text === 'string' && text.startsWith('SELECT pg_notify');
      if (steer.silent === this && probe) args = ['SELECT pg_sleep(30)', ...args.slice(2)];
      else if (steer.slowProbes && probe) args = [`SELECT pg_sleep(1.5), ${text.slice('SELECT '.length)}`, ...args.slice(1)];
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
  }
  return { driver: { ...pg, Client: SteeredClient } as unknown as typeof pg, clients };
}

describe('the listening connection of a PostgreSQL store', () => {
  let url: string;
  let drop: () => Promise<void>;
  let admin: pg.Client;
  /** Sessions open on the test's database, other than the test's own. */
  const sessions = async () =>
    Number((await admin.query('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows[0].n);
  // The store under test has no pool: every other session is a listening connection of its.
  const terminateListeners = () =>
    admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');

  before(async () => {
    ({ url, drop } = await freshPgDatabase());
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await drop();
  });

  it('a LISTEN refused closes its connection: one at most is open while it is refused, one once it is taken, none after close', async () => {
    const steer: Steering = {};
    const { driver, clients } = steeredDriver(steer);
    const changes = new PgChanges(driver, url, new Set());
    await changes.start();
    try {
      steer.refuseListen = true;
      await terminateListeners();
      // Ten beats and more, each trying a connection that LISTEN refuses.
      await eventually(async () => (clients.length >= 10 ? true : undefined));
      assert.equal(changes.stamp(), undefined);
      assert.ok((await sessions()) <= 1, `${await sessions()} sessions open after ${clients.length} refused LISTENs`);
      steer.refuseListen = false;
      await eventually(async () => (changes.stamp() !== undefined ? true : undefined));
      assert.equal(await eventually(async () => ((await sessions()) === 1 ? 1 : undefined)), 1);
    } finally {
      await changes.close();
    }
    assert.equal(await eventually(async () => ((await sessions()) === 0 ? 0 : undefined)), 0);
  });

  it('a connection gone silent is given up and another opened; while none answers, what watches a table looks again at every beat', async () => {
    const steer: Steering = {};
    const { driver, clients } = steeredDriver(steer);
    const changes = new PgChanges(driver, url, new Set());
    await changes.start();
    let looks = 0;
    const stop = changes.onTableChanged('settings', () => looks++);
    try {
      steer.silent = clients[0];
      let closed = false;
      clients[0].on('end', () => (closed = true));
      await eventually(async () => (changes.stamp() === undefined ? true : undefined));
      const before = looks;
      // The silent connection's checks never return: a new connection is opened and confirmed.
      await eventually(async () => (clients.length >= 2 && changes.stamp() !== undefined ? true : undefined));
      // Meanwhile the watcher looked again at the beats (and once after the reconnection).
      assert.ok(looks - before >= 3, `looked again ${looks - before} times while no check answered`);
      // The silent connection was closed, not left open beside the new one.
      assert.equal(await eventually(async () => (closed ? true : undefined)), true);
    } finally {
      stop();
      await changes.close();
      // The silent connection's server session sleeps on (it learns of the close at its sleep's end).
      await terminateListeners();
    }
  });

  it('a LISTEN that does not hold (a pooler in transaction mode) stops the start with an error naming it, and leaves no connection open', async () => {
    const { driver } = steeredDriver({ forgetListen: true });
    const changes = new PgChanges(driver, url, new Set());
    await assert.rejects(changes.start(), (err: Error) => {
      assert.equal(err.name, 'Error');
      assert.match(err.message, /^PostgreSQL notifications do not reach the connection that listens for them \(is DATABASE_URL a pooler in transaction mode\?\)/);
      return true;
    });
    await changes.close();
    assert.equal(await eventually(async () => ((await sessions()) === 0 ? 0 : undefined)), 0);
  });

  it('checks slower than their timeout are failures to reconnect from, not the end of the process', async () => {
    const steer: Steering = {};
    const { driver, clients } = steeredDriver(steer);
    const changes = new PgChanges(driver, url, new Set());
    await changes.start();
    try {
      steer.slowProbes = true;
      // The connection's checks, then each new connection's first one, outlast the timeout.
      await eventually(async () => (clients.length >= 3 ? true : undefined));
      assert.equal(changes.stamp(), undefined);
      steer.slowProbes = false;
      await eventually(async () => (changes.stamp() !== undefined ? true : undefined));
    } finally {
      await changes.close();
      await terminateListeners();
    }
  });

  it('close() while a connection is being made leaves no connection open', async () => {
    const steer: Steering = {};
    const { driver, clients } = steeredDriver(steer);
    const changes = new PgChanges(driver, url, new Set());
    await changes.start();
    steer.connectDelayMs = 300;
    await terminateListeners();
    // A beat has started connecting again (it waits 300 ms before it reaches the database).
    await eventually(async () => (clients.length >= 2 ? true : undefined));
    await changes.close();
    await sleep(600);
    assert.equal(await sessions(), 0);
  });
});
