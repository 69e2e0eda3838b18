import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { buildApp } from '../src/app.js';
import { compileEveryRouteSchema } from '../src/core/validation.js';

/**
 * Route schemas are compiled on each route's first request (core/validation.ts), not at
 * start. Every one of them is compiled here, so a schema Ajv refuses fails this test instead
 * of a user's first call to that route.
 */
it('every route schema compiles', async () => {
  const app = await buildApp({ sqlitePath: ':memory:' });
  try {
    await app.ready();
    const count = compileEveryRouteSchema(app);
    assert.ok(count > 100, `only ${count} schemas were registered`);
  } finally {
    await app.close();
  }
});

it('a schema is compiled on its first request and then validates as before', async () => {
  const app = await buildApp({ sqlitePath: ':memory:' });
  try {
    const bad = await app.inject({ method: 'PATCH', url: '/_kapibara/v1/apps/1', payload: { name: 7 } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /name/);
    const again = await app.inject({ method: 'PATCH', url: '/_kapibara/v1/apps/1', payload: { name: 'x', frob: 1 } });
    assert.equal(again.statusCode, 400);
  } finally {
    await app.close();
  }
});
