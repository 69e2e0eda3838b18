import { after, before, describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import { buildApp } from '../src/app.js';
import { openStore } from '../src/kapibara.js';
import { products } from '../src/products/index.js';
import { route } from '../src/core/route.js';
import type { Product } from '../src/core/product.js';
import type { Store } from '../src/db/index.js';
import { mustApp } from '../src/control/lookups.js';
import { freshPgDatabase, storeKinds } from './helpers/stores.js';

/**
 * Adding a product is one module: a throwaway product declared here, in the test tree,
 * with one kapi route, one table and one control route, is served, migrated, exported,
 * imported and reset by the central files without any change to them.
 */

interface WidgetsTable {
  id: number;
  app_id: number;
  name: string;
}

declare module '../src/db/schema.js' {
  interface DB {
    test_widgets: WidgetsTable;
  }
}

/** Declared on its own, so TypeScript infers the call type from `auth`. */
const listWidgets = route({
  method: 'GET',
  url: '/v1/api/test/widgets',
  auth: 'app-key',
  params: Type.Object({ prefix: Type.Optional(Type.String()) }),
  response: Type.Object({ widgets: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() })) }),
  handler: async (call, input) => {
    const rows = await call.platform.db.selectFrom('test_widgets').select(['id', 'name']).where('app_id', '=', call.app.id).orderBy('id').execute();
    return { widgets: rows.filter((r) => !input.prefix || r.name.startsWith(input.prefix)) };
  },
});

const widgets: Product = {
  name: 'widgets',
  migrations: {
    '900_test_widgets': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('test_widgets')
          .addColumn('id', 'bigint', (c) => c.primaryKey())
          .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull())
          .execute();
      },
    },
  },
  tables: [{ name: 'test_widgets', json: [] }],
  routes: [listWidgets],
  control: async (app: FastifyInstance) => {
    app.post<{ Params: { app_id: number }; Body: { id: number; name: string } }>(
      '/apps/:app_id/widgets',
      {
        schema: {
          params: Type.Object({ app_id: Type.Integer() }),
          body: Type.Object({ id: Type.Integer(), name: Type.String() }, { additionalProperties: false }),
        },
      },
      async (req, reply) => {
        await mustApp(app.platform.db, req.params.app_id);
        await app.platform.db.insertInto('test_widgets').values({ id: req.body.id, app_id: req.params.app_id, name: req.body.name }).execute();
        return reply.status(201).send(req.body);
      },
    );
  },
};

for (const kind of storeKinds()) {
  describe(`a product module added in one place [${kind}]`, () => {
    let store: Store;
    let app: FastifyInstance;
    let dropDatabase: (() => Promise<void>) | undefined;
    const list = [...products, widgets];

    before(async () => {
      if (kind === 'sqlite') store = await openStore({ sqlitePath: ':memory:' }, list);
      else {
        const database = await freshPgDatabase();
        dropDatabase = database.drop;
        store = await openStore({ databaseUrl: database.url }, list);
      }
      app = await buildApp({ store, products: list });
    });
    after(async () => {
      await app.close();
      await store.close();
      await dropDatabase?.();
    });

    const control = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
      const res = await app.inject({ method, url: `/_kapibara/v1${url}`, payload: payload as object, headers: { 'x-kapibara-control': '1' } });
      assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
      return res.json();
    };
    const list_ = async (key: string, query = '') => {
      const res = await app.inject({ method: 'GET', url: `/v1/api/test/widgets${query}`, headers: { authorization: `KakaoAK ${key}` } });
      return { status: res.statusCode, body: res.json() };
    };

    it('is migrated, served, exported, imported and reset', async () => {
      const created = await control('POST', '/apps', { name: 'widget app' });
      await control('POST', `/apps/${created.id}/widgets`, { id: 7, name: 'sprocket' });
      await control('POST', `/apps/${created.id}/widgets`, { id: 8, name: 'gear' });

      // Served, with the declared auth, parameters and response schema.
      assert.deepEqual(await list_(created.rest_api_key), { status: 200, body: { widgets: [{ id: 7, name: 'sprocket' }, { id: 8, name: 'gear' }] } });
      assert.deepEqual((await list_(created.rest_api_key, '?prefix=g')).body, { widgets: [{ id: 8, name: 'gear' }] });
      const noKey = await app.inject({ method: 'GET', url: '/v1/api/test/widgets' });
      assert.equal(noKey.statusCode, 401);
      assert.equal(noKey.json().code, -401);

      // Its control route is on the control surface: errors are `{error}`.
      const missing = await app.inject({ method: 'POST', url: '/_kapibara/v1/apps/999/widgets', payload: { id: 1, name: 'x' } });
      assert.deepEqual([missing.statusCode, missing.json()], [404, { error: 'app 999 not found' }]);
      const bad = await app.inject({ method: 'POST', url: `/_kapibara/v1/apps/${created.id}/widgets`, payload: { id: 'one' } });
      assert.equal(bad.statusCode, 400);
      assert.equal(typeof bad.json().error, 'string');

      // Exported with the rest of the state, after its parent table.
      const state = await control('GET', '/state');
      assert.deepEqual(state.test_widgets, [
        { id: 7, app_id: created.id, name: 'sprocket' },
        { id: 8, app_id: created.id, name: 'gear' },
      ]);
      const keys = Object.keys(state);
      assert.ok(keys.indexOf('test_widgets') > keys.indexOf('apps'));

      // Imported: replace the state with an edited export.
      state.test_widgets = [{ id: 9, app_id: created.id, name: 'cog' }];
      await control('PUT', '/state', state);
      assert.deepEqual((await list_(created.rest_api_key)).body, { widgets: [{ id: 9, name: 'cog' }] });

      // Reset: gone with everything else.
      await control('POST', '/reset');
      assert.deepEqual((await control('GET', '/state')).test_widgets, []);
    });
  });
}
