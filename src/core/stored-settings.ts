import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Store } from '../db/index.js';
import { CLOCK_OFFSET_SETTING, type Clock, storedClockOffset } from './clock.js';
import { SigningKeys, signingKeyProblem } from './keys.js';

/**
 * What an instance holds in memory of the `settings` table: the platform clock's offset,
 * the ID-token signing key and the certificate its TLS listeners serve. Read at start and
 * after an import; and, with several instances on one PostgreSQL database, again whenever
 * another instance changes the table (a clock moved, a reset, an import), so that every
 * instance keeps one clock, one key and one certificate within the bound docs/design.md
 * states.
 */
export interface HeldSettings {
  db: Kysely<DB>;
  clock: Clock;
  keys: SigningKeys;
  /** The TLS listeners serving this app (core/tls.ts), none unless --tls-port. */
  servedCertificates: Set<ServedCertificate>;
}

/** A TLS listener's certificate, which it can swap without a restart. */
export interface ServedCertificate {
  /** The PEM certificate served now. */
  readonly cert: string;
  /** Serves the certificate the store holds (made again first when it must be, core/tls.ts). */
  reload(): Promise<void>;
}

/**
 * Sets the clock's offset (0 without one) and, when the stored key is another, the signing
 * key; TLS listeners switch to a stored certificate that is another.
 */
export async function applyStoredSettings(held: HeldSettings): Promise<void> {
  // What this instance changed while the read was under way is newer than what it read
  // (its own write notifies it again, and the next read agrees).
  const clockVersion = held.clock.version;
  const keysBefore = held.keys;
  const keys = held.servedCertificates.size ? [CLOCK_OFFSET_SETTING, 'signing_key', 'tls_certificate'] : [CLOCK_OFFSET_SETTING, 'signing_key'];
  const rows = await held.db.selectFrom('settings').select(['key', 'value']).where('key', 'in', keys).execute();
  const value = (key: string) => rows.find((r) => r.key === key)?.value;
  if (held.clock.version === clockVersion) held.clock.setOffset(storedClockOffset(value(CLOCK_OFFSET_SETTING)) ?? 0);
  const key = value('signing_key');
  if (key !== undefined && held.keys === keysBefore && signingKeyProblem(key) === undefined) {
    const stored = SigningKeys.fromStored(key);
    if (JSON.stringify(stored.publicJwk) !== JSON.stringify(held.keys.publicJwk)) held.keys = stored;
  }
  const certificate = value('tls_certificate');
  if (certificate === undefined) return;
  const cert = storedCertificatePem(certificate);
  await Promise.all([...held.servedCertificates].filter((served) => served.cert !== cert).map((served) => served.reload()));
}

/** The PEM certificate of a stored `tls_certificate` setting (undefined when it has none). */
function storedCertificatePem(value: string): string | undefined {
  try {
    return (JSON.parse(value) as { cert?: string }).cert;
  } catch {
    return undefined;
  }
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
