import { describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { StoreOptions } from '../src/db/index.js';
import { migrateTo } from '../src/db/migrations/index.js';
import { openStore, storeSchema } from '../src/kapibara.js';
import { verifyPassword } from '../src/core/passwords.js';
import { storeKinds, withDurableStore } from './helpers/stores.js';

/** Upgrades of databases made before issue 14's changes (007 code tokens, 008 password hashes). */
async function olderDatabase(options: StoreOptions, lastMigration: string): Promise<Kysely<any>> {
  const db = options.databaseUrl
    ? new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: options.databaseUrl, max: 2 }) }) })
    : new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(options.sqlitePath!) }) });
  await migrateTo(db, storeSchema().migrations, lastMigration);
  return db;
}

describe('upgrading a database with plaintext passwords and codes without tokens', () => {
  for (const kind of storeKinds()) {
    it(`008 hashes every stored password; 007 keeps existing codes on ${kind}`, async () => {
      await withDurableStore(kind, async (options) => {
        const old = await olderDatabase(options, '006_talk_message_rowid');
        const person = (id: number, password: string) => ({
          id, email: `p${id}@kapibara.test`, password, nickname: `P${id}`, is_leap_month: 0, email_verified: 1, talk_user: 1, story_user: 1, created_at: id,
        });
        await old.insertInto('accounts').values([person(1, 'kapibara'), person(2, 'kapibara'), person(3, 'hunter2')]).execute();
        await old.insertInto('apps').values({
          id: 9, name: 'A', rest_api_key: 'r', native_key: 'n', javascript_key: 'j', admin_key: 'a', client_secret: null,
          redirect_uris: '[]', logout_redirect_uris: '[]', web_domains: '[]', consent_items: '{}', service_terms: '[]', user_property_keys: '[]',
          login_enabled: 1, oidc_enabled: 0, manual_signup: 0, created_at: 0,
        }).execute();
        await old.insertInto('auth_codes').values({
          code_hash: 'h', app_id: 9, account_id: 1, redirect_uri: 'x', scopes: '[]', code_challenge: null, code_challenge_method: null, nonce: null, auth_time: 0, expires_at: 1, used: 1,
        }).execute();
        await old.destroy();

        const store = await openStore(options);
        try {
          const rows = await store.db.selectFrom('accounts').select(['id', 'password']).orderBy('id').execute();
          for (const row of rows) assert.match(row.password, /^scrypt\$/);
          assert.equal(await verifyPassword(rows[0].password, 'kapibara'), true);
          assert.equal(await verifyPassword(rows[1].password, 'kapibara'), true);
          assert.equal(await verifyPassword(rows[2].password, 'hunter2'), true);
          assert.equal(await verifyPassword(rows[2].password, 'kapibara'), false);
          const code = await store.db.selectFrom('auth_codes').selectAll().executeTakeFirstOrThrow();
          assert.equal(code.used, 1);
          assert.equal(code.refresh_hash, null);
        } finally {
          await store.close();
        }
        // Opening it again changes nothing (the hashes are not hashed twice).
        const again = await openStore(options);
        try {
          const row = await again.db.selectFrom('accounts').select('password').where('id', '=', 3).executeTakeFirstOrThrow();
          assert.equal(await verifyPassword(row.password, 'hunter2'), true);
        } finally {
          await again.close();
        }
      });
    });
  }
});
