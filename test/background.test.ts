import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { buildApp } from '../src/app.js';
import { openStore } from '../src/kapibara.js';
import { eitherSignal } from '../src/core/background.js';
import { storeKinds, withDurableStore } from './helpers/stores.js';

/**
 * Work a request leaves running after its answer (core/background.ts; a sharing webhook call):
 * closing the server stops it and waits for it before the store closes, so that what it
 * records is kept and nothing runs after the close.
 */

for (const kind of storeKinds()) {
  it(`closing the server stops background work and waits for it before it closes the store it opened, on ${kind}`, async () => {
    await withDurableStore(kind, async (options) => {
      const app = await buildApp(options);
      let stopped = false;
      const failures: unknown[] = [];
      const failed = (err: unknown) => void failures.push(err);
      app.platform.background.start(async (closing) => {
        await new Promise((resolve) => closing.addEventListener('abort', resolve, { once: true }));
        stopped = true;
        // Written once told to stop: the store is still open.
        await app.platform.db.insertInto('settings').values({ key: 'background test', value: 'written' }).execute();
      }, failed);
      await app.close();
      assert.equal(stopped, true);
      assert.deepEqual(failures, []);
      // Nothing starts once the server is closing.
      let started = false;
      app.platform.background.start(async () => (started = true), failed);
      assert.equal(started, false);
      const store = await openStore(options);
      try {
        const row = await store.db.selectFrom('settings').select('value').where('key', '=', 'background test').executeTakeFirst();
        assert.equal(row?.value, 'written');
      } finally {
        await store.close();
      }
    });
  });
}

it('a signal either of two aborts: it follows each, and done() takes its listener off the shared one', () => {
  const closing = new AbortController();
  const calls = Array.from({ length: 20 }, () => eitherSignal(new AbortController().signal, closing.signal));
  assert.equal(getEventListeners(closing.signal, 'abort').length, 20);
  for (const c of calls) c.done();
  assert.equal(getEventListeners(closing.signal, 'abort').length, 0);

  const own = new AbortController();
  const either = eitherSignal(own.signal, closing.signal);
  own.abort(new Error('own'));
  assert.equal(either.signal.aborted, true);
  assert.equal((either.signal.reason as Error).message, 'own');
  const second = eitherSignal(new AbortController().signal, closing.signal);
  closing.abort(new Error('closing'));
  assert.equal((second.signal.reason as Error).message, 'closing');
  assert.equal(eitherSignal(closing.signal).signal.aborted, true);
});
