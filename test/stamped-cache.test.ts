import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import type { Store } from '../src/db/index.js';
import { StampedCache } from '../src/db/stamped-cache.js';

/**
 * The in-memory caches of the SQLite store (resolved tokens, kept answers of /v2/user/me
 * and the friends pages) are bounded by bytes as well as entries: a client choosing long
 * keys (a 16 KB junk parameter on every friends URL) once raised the resident size from
 * 150 MB to about 475 MB, where it stayed.
 */

function storeAt(stamp: number | undefined): Store {
  return { changeStamp: () => stamp } as unknown as Store;
}

it('keeps no more bytes than its bound, however long the keys and values a client makes', () => {
  const cache = new StampedCache<Buffer>(storeAt(1), { maxBytes: 1024 * 1024, sizeOf: (b) => b.length });
  const junk = 'x'.repeat(16 * 1024);
  for (let i = 0; i < 3000; i++) {
    cache.store(`token\n/v1/api/talk/friends?junk=${junk}&i=${i}\n`, 1, Buffer.alloc(4096));
    assert.ok(cache.held().bytes <= 1024 * 1024, `after ${i + 1} entries: ${cache.held().bytes} bytes held`);
  }
  assert.ok(cache.held().entries > 0, 'it still keeps answers');
  const last = `token\n/v1/api/talk/friends?junk=${junk}&i=2999\n`;
  assert.equal(cache.lookup(last).hit, true);
});

it('counts a replaced entry once, and keeps nothing larger than its whole bound', () => {
  const cache = new StampedCache<Buffer>(storeAt(1), { maxBytes: 10_000, sizeOf: (b) => b.length });
  for (let i = 0; i < 100; i++) cache.store('same', 1, Buffer.alloc(1000));
  assert.deepEqual(cache.held(), { entries: 1, bytes: 2 * 'same'.length + 1000 });
  cache.store('huge', 1, Buffer.alloc(20_000));
  assert.equal(cache.lookup('huge').hit, false);
  assert.ok(cache.held().bytes <= 10_000);
});

it('is still bounded by entries, and keeps nothing on a store without a change stamp', () => {
  const cache = new StampedCache<number>(storeAt(7), { maxEntries: 100 });
  for (let i = 0; i < 1000; i++) cache.store(`k${i}`, 7, i);
  assert.ok(cache.held().entries <= 100);
  const unstamped = new StampedCache<number>(storeAt(undefined));
  unstamped.store('k', unstamped.lookup('k').stamp, 1);
  assert.deepEqual(unstamped.held(), { entries: 0, bytes: 0 });
});
