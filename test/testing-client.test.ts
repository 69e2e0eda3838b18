import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { startKapibara } from '../src/testing.js';

/** kapibara/testing's client says in its types what its calls resolve to (docs/testing.md). */
it('people.byEmail resolves the person, or undefined for an unknown email, and is typed so', async () => {
  const kakao = await startKapibara({ demo: false });
  try {
    const ryan = await kakao.control.people.create({ nickname: 'Ryan', email: 'ryan@example.com' });
    const found = await kakao.control.people.byEmail('ryan@example.com');
    // @ts-expect-error: an unknown email resolves undefined, so an app must check before reading
    assert.equal(found.id, ryan.id);
    assert.equal(await kakao.control.people.byEmail('nobody@example.com'), undefined);
    // What it reads (docs/control-plane.md): a list, empty for an unknown email, never a 404.
    const unknown = await fetch(`${kakao.url}/_kapibara/v1/accounts?email=nobody%40example.com`);
    assert.equal(unknown.status, 200);
    assert.deepEqual(await unknown.json(), []);
    const known = await fetch(`${kakao.url}/_kapibara/v1/accounts?email=ryan%40example.com`);
    assert.deepEqual((await known.json()).map((p: { id: number }) => p.id), [ryan.id]);
  } finally {
    await kakao.stop();
  }
});
