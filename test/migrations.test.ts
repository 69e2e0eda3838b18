import { describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { StoreOptions } from '../src/db/index.js';
import { migrateTo } from '../src/db/migrations/index.js';
import { openStore, storeSchema } from '../src/kapibara.js';
import { countMessages, listMessages } from '../src/products/message/store.js';
import { counterPeriodEnd } from '../src/products/message/quota-periods.js';
import { createApp } from '../src/store/apps.js';
import { buildApp } from '../src/app.js';
import { storeKinds, withDurableStore } from './helpers/stores.js';

/**
 * Upgrading a database made by an earlier Kapibara: its data survives every later
 * migration. Built by running the migrations up to a past one, writing rows as that
 * version did, then opening it as the server does.
 */
async function olderDatabase(options: StoreOptions, lastMigration: string): Promise<Kysely<any>> {
  const db = options.databaseUrl
    ? new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: options.databaseUrl, max: 2 }) }) })
    : new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(options.sqlitePath!) }) });
  await migrateTo(db, storeSchema().migrations, lastMigration);
  return db;
}

describe('upgrading an existing database', () => {
  for (const kind of storeKinds()) {
    it(`Talk messages stored before 006_talk_message_rowid are kept, in order, on ${kind}`, async () => {
      await withDurableStore(kind, async (options) => {
        const old = await olderDatabase(options, '005_talk_friend_positions');
        const now = Date.UTC(2026, 10, 1);
        await old
          .insertInto('accounts')
          .values({ id: 7, email: 'old@kapibara.test', password: 'x', nickname: 'Old', is_leap_month: 0, email_verified: 1, talk_user: 1, story_user: 1, created_at: now })
          .execute();
        const rows = [1, 2, 3].map((i) => ({
          id: 1_700_000_000_000_000 + i,
          account_id: 7,
          chat_type: 'memo',
          peer_account_id: 7,
          app_id: 1,
          sender_account_id: 7,
          template_type: 'text',
          template_id: null,
          template: JSON.stringify({ object_type: 'text', text: `message ${i}` }),
          created_at: now + Math.min(i, 2),
        }));
        await old.insertInto('talk_messages').values(rows).execute();
        await old.destroy();

        const store = await openStore(options);
        try {
          const messages = await listMessages(store.db, 7, 7, {}, 10);
          assert.equal(await countMessages(store.db, 7, 7), 3);
          // Newest first; messages of the same millisecond by id.
          assert.deepEqual(
            messages.map((m) => m.template.text),
            ['message 3', 'message 2', 'message 1'],
          );
          assert.deepEqual(
            messages.map((m) => m.id),
            [rows[2].id, rows[1].id, rows[0].id],
          );
          if (kind === 'sqlite') {
            // The id is now the rowid: no separate primary-key index.
            const ddl = await sql<{ sql: string }>`select sql from sqlite_master where name = 'talk_messages'`.execute(store.db);
            assert.match(ddl.rows[0].sql, /"id" integer primary key/i);
            const same = await sql<{ n: number }>`select count(*) as n from talk_messages where rowid = id`.execute(store.db);
            assert.equal(same.rows[0].n, 3);
          }
          // A send after the upgrade is stored beside them, newest first.
          const app = await buildApp({ store });
          try {
            const control = async (url: string, payload: object) => {
              const res = await app.inject({ method: 'POST', url: `/_kapibara/v1${url}`, payload });
              assert.ok(res.statusCode < 300, res.body);
              return res.json();
            };
            const kakaoApp = await control('/apps', { consent_items: { profile_nickname: 'required', talk_message: 'optional' } });
            const { access_token } = await control(`/apps/${kakaoApp.id}/users/7/tokens`, {});
            const ok = await app.inject({
              method: 'POST',
              url: '/v2/api/talk/memo/default/send',
              headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
              payload: new URLSearchParams({
                template_object: JSON.stringify({ object_type: 'text', text: 'after the upgrade', link: { android_execution_params: 'a=1' } }),
              }).toString(),
            });
            assert.equal(ok.statusCode, 200, ok.body);
            const after = await listMessages(store.db, 7, 7, {}, 10);
            assert.equal(await countMessages(store.db, 7, 7), 4);
            assert.equal(after[0].template.text, 'after the upgrade');
          } finally {
            await app.close();
          }
        } finally {
          await store.close();
        }
      });
    });
  }

  for (const kind of storeKinds()) {
    it(`web_domains entries no page can match, stored before 053, are removed, so the store's own export imports again, on ${kind}`, async () => {
      await withDurableStore(kind, async (options) => {
        const old = await olderDatabase(options, '052_id_spaces');
        const webDomains = ['http://localhost:3000', '*.legacy.example', 'localhost:4000', 'ftp://x.test', 'shop.example'];
        const legacy = await createApp(old, { name: 'Legacy', webDomains }, Date.UTC(2026, 10, 1));
        await old.destroy();

        const store = await openStore(options);
        try {
          const app = await buildApp({ store });
          try {
            const got = await app.inject({ method: 'GET', url: `/_kapibara/v1/apps/${legacy.id}` });
            assert.deepEqual(got.json().web_domains, ['http://localhost:3000', 'shop.example']);
            const state = await app.inject({ method: 'GET', url: '/_kapibara/v1/state' });
            const put = await app.inject({ method: 'PUT', url: '/_kapibara/v1/state', headers: { 'content-type': 'application/json' }, payload: state.body });
            assert.ok(put.statusCode < 300, put.body);
          } finally {
            await app.close();
          }
        } finally {
          await store.close();
        }
      });
    });
  }

  // Stored before 065 (which stamped them in SQL of its own), or after it with what it stamped:
  // 078 stamps every one by the rule an import uses.
  for (const [kind, since] of storeKinds().flatMap((k) => [[k, '064_message_empty_group_chats'], [k, '065_message_quota_expiry']] as const)) {
    it(`Talk quota counters stored at ${since} expire when the period their key names ends (KST), as imported ones do, on ${kind}`, async () => {
      await withDurableStore(kind, async (options) => {
        const old = await olderDatabase(options, since);
        const app = await createApp(old, { name: 'Quotas' }, Date.UTC(2026, 10, 1));
        // After 065 a counter has an expiry: one no rule gives, which 078 must replace.
        const stamped = since === '065_message_quota_expiry' ? { expires_at: 12345 } : {};
        const keys = [
          's:7:20261115', 'sm:7:202611', 'sm:7:202612', 'r:8:20261231', 'p:7:8:20240229',
          'x', 's:7:2026111', 'sm:7:20261115', 's:7:20260230', 'x:7:20261115', 's:seven:20261115', 'sm:7:202613', 's:7:00011115',
        ];
        await old.insertInto('talk_quota_counters').values(keys.map((counter_key) => ({ app_id: app.id, counter_key, count: 1, ...stamped }))).execute();
        // More than a batch of the migration's, and a second app.
        const other = await createApp(old, { name: 'Quotas 2' }, Date.UTC(2026, 10, 1));
        const many = Array.from({ length: 2500 }, (_, i) => `s:${i}:20261115`);
        for (let i = 0; i < many.length; i += 500) {
          await old.insertInto('talk_quota_counters').values(many.slice(i, i + 500).map((counter_key) => ({ app_id: other.id, counter_key, count: 1, ...stamped }))).execute();
        }
        await old.destroy();

        const store = await openStore(options);
        try {
          const rows = await store.db.selectFrom('talk_quota_counters').select(['counter_key', 'expires_at']).where('app_id', '=', app.id).execute();
          const others = await store.db.selectFrom('talk_quota_counters').select(({ fn }) => [fn.countAll<number>().as('n'), fn.min('expires_at').as('min'), fn.max('expires_at').as('max')]).where('app_id', '!=', app.id).executeTakeFirstOrThrow();
          const at = Object.fromEntries(rows.map((r) => [r.counter_key, Number(r.expires_at)]));
          const kst = (y: number, m: number, d: number) => Date.UTC(y, m, d) - 9 * 3600_000;
          assert.deepEqual(at, {
            's:7:20261115': kst(2026, 10, 16),
            'sm:7:202611': kst(2026, 11, 1),
            'sm:7:202612': kst(2027, 0, 1),
            'r:8:20261231': kst(2027, 0, 1),
            'p:7:8:20240229': kst(2024, 2, 1),
            // Keys that name no period (only a hand-written import stores them) are expired,
            // as an import of them would be (counterPeriodEnd): no day 30 of February, no
            // month 13, no year 1, no prefix but s, sm, r and p, people by number.
            x: 0,
            's:7:2026111': 0,
            'sm:7:20261115': 0,
            's:7:20260230': 0,
            'x:7:20261115': 0,
            's:seven:20261115': 0,
            'sm:7:202613': 0,
            's:7:00011115': 0,
          });
          for (const key of keys) assert.equal(new Map(Object.entries(at)).get(key), counterPeriodEnd(key) ?? 0, key);
          assert.deepEqual([Number(others.n), Number(others.min), Number(others.max)], [2500, kst(2026, 10, 16), kst(2026, 10, 16)]);
        } finally {
          await store.close();
        }
      });
    });
  }

  for (const kind of storeKinds()) {
    it(`a store that ran every migration reopens with each listed once; one that ran a migration this version does not know is refused, on ${kind}`, async () => {
      await withDurableStore(kind, async (options) => {
        const names = Object.keys(storeSchema().migrations);
        const first = await openStore(options);
        await first.close();
        // Reopened at the same version: nothing to run, every migration is still listed once.
        const again = await openStore(options);
        const applied = (await again.db.selectFrom('kysely_migration' as any).select('name').execute()).map((r: any) => r.name);
        assert.deepEqual([...applied].sort(), [...names].sort());
        // A database a later Kapibara migrated further is not taken as up to date.
        await again.db.insertInto('kysely_migration' as any).values({ name: '999_from_a_later_version', timestamp: new Date().toISOString() }).execute();
        await again.close();
        // It is refused, saying so: not Kysely's "corrupted migrations … is missing", which
        // reads as a damaged store.
        await assert.rejects(openStore(options), {
          message:
            'this store was migrated by a newer Kapibara: it has migration 999_from_a_later_version, which this version does not know. ' +
            'Run a Kapibara at least as new as the one that migrated it, or use another store.',
        });
      });
    });
  }
});
