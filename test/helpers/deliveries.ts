import type { Store } from '../../src/db/index.js';
import { MESSAGE_LOG } from '../../src/products/message/store.js';

/**
 * Runs `between` inside message deliveries of `store` (sends to friends, memos, shares):
 * after the send has made its checks (and reserved its quota) and before its rows are
 * inserted, which then meet whatever `between` did. `times` deliveries are held so, the
 * rest go through untouched. Returns how many were held so far; `release()` puts the
 * writer back as it was.
 */
export function betweenCheckAndInsert(store: Store, between: (n: number) => Promise<unknown>, times = 1): { held: () => number; release: () => void } {
  const log = store.registry.get(MESSAGE_LOG);
  const append = log.append;
  let held = 0;
  log.append = async (rows) => {
    if (held < times) await between(++held);
    return append.call(log, rows);
  };
  return { held: () => held, release: () => void delete (log as { append?: unknown }).append };
}
