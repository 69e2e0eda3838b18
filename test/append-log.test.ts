import { after, before, describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { AppendLog } from '../src/db/log.js';
import type { CompiledQuery, QueryExecutor } from 'kysely';
import { Harness, forEachStore } from './helpers/harness.js';

const COLUMNS = ['account_id', 'chat_type', 'peer_account_id', 'app_id', 'sender_account_id', 'template_type', 'template_id', 'template', 'created_at'] as const;
type Row = Record<(typeof COLUMNS)[number], unknown>;

/** A memo to oneself, as a log row. */
const memoRow = (accountId: number, text: string): Row => ({
  account_id: accountId,
  chat_type: 'memo',
  peer_account_id: accountId,
  app_id: 1,
  sender_account_id: accountId,
  template_type: 'default',
  template_id: null,
  template: JSON.stringify({ text }),
  created_at: 1,
});

/**
 * Group commit on PostgreSQL (src/db/log.ts): one insert of a log table under way at a
 * time, and the appends made meanwhile stored together by the next one. Without that, each
 * turn of the event loop sent an insert of its own, and two instances sharing the load each
 * stored batches half the size at twice the cost per row.
 */
describe('group commit on PostgreSQL [postgres]', () => {
  const h = new Harness('postgres');
  before(async () => h.start());
  after(async () => h.stop());

  it('stores the appends made while an insert is under way in one next insert, each caller told when its rows are in', async () => {
    const person = await h.createAccount({ nickname: 'Log' });
    const row = (text: string) => memoRow(person.id, text);
    const pool = h.store.pool!;
    const inserts: number[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    (pool as { query: unknown }).query = async (config: { name?: string; values?: unknown[] }, ...rest: unknown[]) => {
      if (typeof config === 'object' && config.name?.startsWith('kapibara_log_talk_messages_')) {
        inserts.push((config.values?.length ?? 0) / COLUMNS.length);
        if (inserts.length === 1) await held;
      }
      return query(config, ...rest);
    };
    try {
      const log = new AppendLog<Row>(h.store, 'talk_messages', COLUMNS);
      const settled: string[] = [];
      const first = log.append([row('first')]).then(() => settled.push('first'));
      // The first insert is under way (held); these come in later turns of the event loop.
      const later: Promise<unknown>[] = [];
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setImmediate(r));
        later.push(log.append([row(`later ${i}`), row(`later ${i} again`)]).then(() => settled.push(`later ${i}`)));
      }
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(inserts, [1], 'nothing more is sent while the first insert is under way');
      assert.deepEqual(settled, []);
      release();
      await Promise.all([first, ...later]);
      assert.deepEqual(inserts, [1, 10], 'the five later appends went in one insert');
      assert.equal(settled[0], 'first');
      const stored = await h.store.db.selectFrom('talk_messages').select('template').where('account_id', '=', person.id).execute();
      assert.equal(stored.length, 11);
    } finally {
      (pool as { query: unknown }).query = query;
    }
  });
});

/**
 * A batch whose insert was sent and whose answer never came (the connection lost on the way
 * back) may be stored: storing each caller's rows again, as for a batch one bad row refused,
 * stored them twice and told every caller they were stored once.
 */
forEachStore('A group commit whose connection is lost', (h) => {
  it('is not stored again row set by row set: each row at most once, and every caller told it failed', async () => {
    const person = await h.createAccount({ nickname: 'Lost' });
    const row = (text: string) => memoRow(person.id, text);
    const lost = () => new Error('Connection terminated unexpectedly');
    let inserts = 0;
    // The first insert reaches the database, and its answer is lost.
    const pool = h.store.pool as { query: (...args: unknown[]) => Promise<unknown> } | undefined;
    const poolQuery = pool?.query;
    if (pool && poolQuery) {
      pool.query = async (config: unknown, ...rest: unknown[]) => {
        const name = typeof config === 'object' ? (config as { name?: string }).name : undefined;
        const result = await poolQuery.call(pool, config, ...rest);
        if (name?.startsWith('kapibara_log_talk_messages_') && ++inserts === 1) throw lost();
        return result;
      };
    }
    const executor = h.store.db.getExecutor() as QueryExecutor & { executeQuery: QueryExecutor['executeQuery'] };
    const execute = executor.executeQuery;
    executor.executeQuery = async function (query: CompiledQuery, ...rest: unknown[]) {
      const result = await (execute as (...args: unknown[]) => ReturnType<QueryExecutor['executeQuery']>).call(executor, query, ...rest);
      if (query.sql.startsWith('insert into "talk_messages"') && ++inserts === 1) throw lost();
      return result;
    } as QueryExecutor['executeQuery'];
    try {
      const log = new AppendLog<Row>(h.store, 'talk_messages', COLUMNS);
      // Appended in one turn: one batch, one insert.
      const results = await Promise.allSettled([log.append([row('a')]), log.append([row('b'), row('c')])]);
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
      assert.match(String((results[0] as PromiseRejectedResult).reason), /Connection terminated unexpectedly/);
    } finally {
      if (pool && poolQuery) pool.query = poolQuery;
      delete (executor as { executeQuery?: unknown }).executeQuery;
    }
    const stored = await h.store.db.selectFrom('talk_messages').select('template').where('account_id', '=', person.id).execute();
    assert.deepEqual(stored.map((r) => JSON.parse(r.template).text).sort(), ['a', 'b', 'c'], 'each row once: the batch was stored, and nothing again');
  });
});
