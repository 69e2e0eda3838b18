import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { CompiledQuery, type Kysely, createQueryId, sql } from 'kysely';
import { Recorder } from './helpers/recorder.js';
import type { DB } from '../src/db/schema.js';
import { accountsForLoginPage, revokeRefreshFamily } from '../src/products/login/store.js';
import { revokeTokens } from '../src/store/tokens.js';
import { deleteLink } from '../src/store/links.js';
import { EXPIRED_KEPT_MS, sweepExpired } from '../src/store/expiry.js';
import { forEachStore, type Harness } from './helpers/harness.js';

/**
 * Statements whose cost must grow with what they touch, never with the table (DESIGN.md,
 * "Fast"): each is checked by the plan the store makes for it, not by timing. SQLite's
 * EXPLAIN QUERY PLAN may show no full scan (`SCAN t` without an index) and no sort of its
 * own (`USE TEMP B-TREE`). PostgreSQL would scan a table of a few rows whatever its indexes,
 * so its plan is asked for with sequential scans and sorts priced out (`enable_seqscan`,
 * `enable_sort` off): it still chooses them when no index can serve the statement.
 */


interface Plan {
  sql: string;
  lines: string[];
}

async function plansOf(h: Harness, run: (db: Kysely<DB>) => Promise<unknown>): Promise<Plan[]> {
  const sqlite = h.store.dialect === 'sqlite';
  // One connection, so that the settings apply to the plans asked for on it.
  return h.store.db.connection().execute(async (conn) => {
    const settings = ['enable_seqscan', 'enable_sort'];
    if (!sqlite) for (const name of settings) await sql`SELECT set_config(${name}, 'off', false)`.execute(conn);
    try {
      const recorder = new Recorder();
      await run(conn.withPlugin(recorder));
      const plans: Plan[] = [];
      for (const node of recorder.nodes) {
        const compiled = conn.getExecutor().compileQuery(node, createQueryId());
        const explain = CompiledQuery.raw(`${sqlite ? 'EXPLAIN QUERY PLAN' : 'EXPLAIN'} ${compiled.sql}`, [...compiled.parameters]);
        const rows = (await conn.executeQuery<Record<string, string>>(explain)).rows;
        plans.push({ sql: compiled.sql, lines: rows.map((r) => (sqlite ? r.detail : r['QUERY PLAN'])) });
      }
      return plans;
    } finally {
      if (!sqlite) for (const name of settings) await sql`SELECT set_config(${name}, 'on', false)`.execute(conn);
    }
  });
}

function assertIndexed(plans: Plan[], dialect: string): void {
  assert.ok(plans.length > 0, 'no statement ran');
  for (const plan of plans) {
    const text = `${plan.sql}\n  ${plan.lines.join('\n  ')}`;
    if (dialect === 'sqlite') {
      for (const line of plan.lines) {
        assert.doesNotMatch(line, /^SCAN \w+$/, `a full scan:\n${text}`);
        assert.doesNotMatch(line, /TEMP B-TREE/, `a sort of every row:\n${text}`);
      }
    } else {
      for (const line of plan.lines) {
        assert.doesNotMatch(line, /Seq Scan/, `a full scan:\n${text}`);
        assert.doesNotMatch(line, /\bSort\b/, `a sort of every row:\n${text}`);
      }
    }
  }
}

forEachStore('Query plans: cost grows with the page, never with the table', (h) => {
  it('the people of the login page (and of the sharer and Story share pages) are read by an index, without a sort', async () => {
    const plans = await plansOf(h, (db) => accountsForLoginPage(db, 50));
    assertIndexed(plans, h.store.dialect);
  });

  it("a refresh token's revocation (a replayed code) finds its access tokens by an index", async () => {
    const plans = await plansOf(h, (db) => revokeRefreshFamily(db, 'not-a-hash'));
    assert.equal(plans.length, 2);
    assertIndexed(plans, h.store.dialect);
  });

  it("logout and unlink find the person's tokens, codes and AGTs of the app by an index", async () => {
    const app = await h.createApp();
    const person = await h.createAccount();
    await h.token(app, person);
    assertIndexed(await plansOf(h, (db) => revokeTokens(db, app.id, person.id)), h.store.dialect);
    assertIndexed(await plansOf(h, (db) => deleteLink(db, app.id, person.id)), h.store.dialect);
  });

  it('the expiry sweep finds what it removes by an index, on every table it sweeps', async () => {
    const app = await h.createApp();
    const person = await h.createAccount();
    const expired = h.clock.now() - EXPIRED_KEPT_MS - 60_000;
    await h.store.db.insertInto('access_tokens').values({ token_hash: 'old', app_id: app.id, account_id: person.id, refresh_hash: null, expires_at: expired, created_at: expired }).execute();
    const swept = h.app.platform.tables.filter((t) => t.expiresAt);
    assert.deepEqual(
      swept.map((t) => t.name),
      ['access_tokens', 'refresh_tokens', 'auth_codes', 'login_sessions', 'agts', 'login_auth_transactions', 'talk_quota_counters', 'sharing_images', 'sharing_requests'],
    );
    const plans = await plansOf(h, (db) => sweepExpired({ ...h.store, db }, swept, h.clock.now(), { wait: true }));
    assert.ok(plans.some((p) => /^delete/i.test(p.sql)), 'a batch was deleted');
    assertIndexed(plans, h.store.dialect);
  });
});
