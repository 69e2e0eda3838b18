import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { forEachStore } from './helpers/harness.js';
import { buildApp } from '../src/app.js';

forEachStore('health', (h) => {
  it('answers 200 without an operator token and tells nothing about the state', async () => {
    const guarded = await buildApp({ store: h.store, operatorToken: 'secret-operator' });
    try {
      const control = await guarded.inject({ method: 'GET', url: '/_kapibara/v1/apps' });
      assert.equal(control.statusCode, 401);
      const res = await guarded.inject({ method: 'GET', url: '/_kapibara/health' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'application/json;charset=UTF-8');
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json();
      assert.equal(typeof body.uptime_s, 'number');
      assert.deepEqual({ ...body, uptime_s: 0 }, {
        status: 'ok',
        version: '0.1.0',
        uptime_s: 0,
        store: { dialect: h.kind === 'sqlite' ? 'sqlite' : 'postgres', reachable: true },
        migrations: { current: true, applied: body.migrations.known, known: body.migrations.known },
      });
      assert.ok(body.migrations.known >= 8);
    } finally {
      await guarded.close();
    }
  });

  it('is 503 in the control plane’s shape when a migration is missing', async () => {
    const [last] = await h.store.db.selectFrom('kysely_migration' as any).select('name').orderBy('name', 'desc').limit(1).execute() as { name: string }[];
    await sql`delete from kysely_migration where name = ${last.name}`.execute(h.store.db);
    try {
      const res = await h.inject({ method: 'GET', url: '/_kapibara/health' });
      assert.equal(res.statusCode, 503);
      const body = res.json();
      assert.equal(body.error, `migrations not applied: ${last.name}`);
      assert.equal(body.status, 'unavailable');
      assert.equal(body.migrations.current, false);
    } finally {
      await sql`insert into kysely_migration (name, timestamp) values (${last.name}, ${new Date().toISOString()})`.execute(h.store.db);
    }
  });

  it('refuses other methods in the control plane’s shape', async () => {
    const res = await h.inject({ method: 'POST', url: '/_kapibara/health' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: 'no such control-plane endpoint: POST /_kapibara/health' });
  });
});
