import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Store } from '../db/index.js';
import { type Clock, storedClockOffset } from './clock.js';
import { SigningKeys, signingKeyProblem } from './keys.js';

/**
 * What an instance holds in memory of the `settings` table: the platform clock's offset and
 * the ID-token signing key. Read at start and after an import; and, with several instances
 * on one PostgreSQL database, again whenever another instance changes the table (a clock
 * moved, a reset, an import), so that every instance keeps one clock and one key within
 * the bound docs/design.md states.
 */
export interface HeldSettings {
  db: Kysely<DB>;
  clock: Clock;
  keys: SigningKeys;
}

/** Sets the clock's offset (0 without one) and, when the stored key is another, the signing key. */
export async function applyStoredSettings(held: HeldSettings): Promise<void> {
  // What this instance changed while the read was under way is newer than what it read
  // (its own write notifies it again, and the next read agrees).
  const clockVersion = held.clock.version;
  const keysBefore = held.keys;
  const rows = await held.db.selectFrom('settings').select(['key', 'value']).where('key', 'in', ['clock_offset_ms', 'signing_key']).execute();
  const value = (key: string) => rows.find((r) => r.key === key)?.value;
  if (held.clock.version === clockVersion) held.clock.setOffset(storedClockOffset(value('clock_offset_ms')) ?? 0);
  const key = value('signing_key');
  if (key === undefined || held.keys !== keysBefore || signingKeyProblem(key) !== undefined) return;
  const stored = SigningKeys.fromStored(key);
  if (JSON.stringify(stored.publicJwk) !== JSON.stringify(held.keys.publicJwk)) held.keys = stored;
}

/**
 * Re-reads the settings whenever another instance changes them; one read at a time, the
 * last change always read. Returns what stops following (the app closing).
 */
export function followStoredSettings(store: Store, held: HeldSettings): () => void {
  let running = false;
  let again = false;
  const reload = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await applyStoredSettings(held).catch(() => undefined);
      } while (again);
    } finally {
      running = false;
    }
  };
  return store.onTableChanged('settings', () => void reload());
}
