import { describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { migrateTo } from '../src/db/migrations/index.js';
import { openStore, storeSchema } from '../src/kapibara.js';
import { buildApp } from '../src/app.js';
import { storeKinds, withDurableStore } from './helpers/stores.js';

/** A database made before the Channel and Push products gets their tables, and its apps and people use them at once. */
describe('upgrading to 020_channel and 021_push', () => {
  for (const kind of storeKinds()) {
    it(`an app and a person made before 020 get a channel, a relation and a push token on ${kind}`, async () => {
      await withDurableStore(kind, async (options) => {
        const old = options.databaseUrl
          ? new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: options.databaseUrl, max: 2 }) }) })
          : new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(options.sqlitePath!) }) });
        await migrateTo(old, storeSchema().migrations, '009_talk_message_ids');
        await old.destroy();

        const store = await openStore(options);
        const app = await buildApp({ store });
        try {
          const created = await app.inject({ method: 'POST', url: '/_kapibara/v1/apps', payload: { name: 'Old app' } });
          assert.equal(created.statusCode, 201, created.body);
          const shop = created.json();
          const person = (await app.inject({ method: 'POST', url: '/_kapibara/v1/accounts', payload: { nickname: 'Old' } })).json();
          const channel = await app.inject({ method: 'POST', url: '/_kapibara/v1/channels', payload: { app_id: shop.id, name: 'Old channel', search_id: '@old' } });
          assert.equal(channel.statusCode, 201, channel.body);
          assert.match(channel.json().public_id, /^_[A-Za-z]{6}$/);
          const relation = await app.inject({ method: 'PUT', url: `/_kapibara/v1/channels/${channel.json().public_id}/relations/${person.id}`, payload: { relation: 'ADDED' } });
          assert.equal(relation.json().relation, 'ADDED');
          const push = await app.inject({
            method: 'POST',
            url: '/v2/push/register',
            headers: { authorization: `KakaoAK ${shop.admin_key}`, 'content-type': 'application/x-www-form-urlencoded' },
            payload: `uuid=1&device_id=d&push_type=apns&push_token=${'f'.repeat(64)}`,
          });
          assert.equal(push.body, '-1');
        } finally {
          await app.close();
          await store.close();
        }
      });
    });
  }
});
