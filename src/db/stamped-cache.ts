import type { Store } from './index.js';

/** `stamp`: the one to store a value computed now under (on a hit, the kept value's own). */
export type Lookup<V> = { hit: true; value: V; stamp: number } | { hit: false; stamp: number | undefined };

/**
 * Values derived from the database alone, kept in memory for one store while its change
 * stamp is unchanged (SQLite: no write through Kapibara and no commit by another process
 * since). On a store without a stamp (PostgreSQL, where other instances write unseen)
 * nothing is kept. Bounded by entries and by bytes (keys are as long as a client makes
 * them, answers as long as a page): cleared when either is full. One instance per store,
 * from the store's registry.
 *
 * Read the stamp (`lookup`) before reading the database, and store what was read under
 * that stamp, so a value is never trusted past a write it did not see. Writes to log
 * tables do not move the stamp: keep nothing derived from them.
 */
export class StampedCache<V> {
  private readonly map = new Map<string, { stamp: number; value: V; bytes: number }>();
  private bytes = 0;

  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly sizeOf: (value: V) => number;

  /**
   * `sizeOf` tells the bytes a value holds beyond its key (default: none); a key counts two
   * bytes a character, as V8 may hold it.
   */
  constructor(
    private readonly owner: Store,
    options: { maxEntries?: number; maxBytes?: number; sizeOf?: (value: V) => number } = {},
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.sizeOf = options.sizeOf ?? (() => 0);
  }

  /** What is kept now: entries, and their bytes as counted against the bound. */
  held(): { entries: number; bytes: number } {
    return { entries: this.map.size, bytes: this.bytes };
  }

  lookup(key: string): Lookup<V> {
    const stamp = this.owner.changeStamp();
    if (stamp === undefined) return { hit: false, stamp };
    const entry = this.map.get(key);
    if (entry && entry.stamp === stamp) return { hit: true, value: entry.value, stamp };
    return { hit: false, stamp };
  }

  store(key: string, stamp: number | undefined, value: V): void {
    if (stamp === undefined) return;
    const bytes = 2 * key.length + this.sizeOf(value);
    const old = this.map.get(key);
    if (old) {
      this.map.delete(key);
      this.bytes -= old.bytes;
    }
    if (this.map.size >= this.maxEntries || this.bytes + bytes > this.maxBytes) {
      this.map.clear();
      this.bytes = 0;
    }
    if (bytes > this.maxBytes) return;
    this.map.set(key, { stamp, value, bytes });
    this.bytes += bytes;
  }

  /** The current value for `key`, computing (and keeping) it when there is none. */
  async get(key: string, compute: () => Promise<V>): Promise<V> {
    const found = this.lookup(key);
    if (found.hit) return found.value;
    const value = await compute();
    this.store(key, found.stamp, value);
    return value;
  }
}
