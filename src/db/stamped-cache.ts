import type { Kysely } from 'kysely';
import type { DB } from './schema.js';
import { changeStamp } from './index.js';

export type Lookup<V> = { hit: true; value: V } | { hit: false; stamp: number | undefined };

/**
 * Values derived from the database alone, kept in memory per store while its change
 * stamp is unchanged (SQLite: no write through Kapibara and no commit by another process
 * since). On a store without a stamp (PostgreSQL, where other instances write unseen)
 * nothing is kept. Bounded: cleared when full.
 *
 * Read the stamp (`lookup`) before reading the database, and store what was read under
 * that stamp, so a value is never trusted past a write it did not see. Writes to the
 * append-only log tables (`talkLogTables`) do not move the stamp: keep nothing derived
 * from them.
 */
export class StampedCache<V> {
  private readonly maps = new WeakMap<object, Map<string, { stamp: number; value: V }>>();

  constructor(private readonly maxEntries = 10_000) {}

  lookup(db: Kysely<DB>, key: string): Lookup<V> {
    const stamp = changeStamp(db);
    if (stamp === undefined) return { hit: false, stamp };
    const entry = this.maps.get(db)?.get(key);
    if (entry && entry.stamp === stamp) return { hit: true, value: entry.value };
    return { hit: false, stamp };
  }

  store(db: Kysely<DB>, key: string, stamp: number | undefined, value: V): void {
    if (stamp === undefined) return;
    let map = this.maps.get(db);
    if (!map) this.maps.set(db, (map = new Map()));
    if (map.size >= this.maxEntries) map.clear();
    map.set(key, { stamp, value });
  }

  /** The current value for `key`, computing (and keeping) it when there is none. */
  async get(db: Kysely<DB>, key: string, compute: () => Promise<V>): Promise<V> {
    const found = this.lookup(db, key);
    if (found.hit) return found.value;
    const value = await compute();
    this.store(db, key, found.stamp, value);
    return value;
  }
}
