import { webDomainMatcher } from '../../core/fetcher.js';
import type { Platform } from '../../core/platform.js';
import { registryKey } from '../../db/registry.js';

/**
 * Web domains as origins. A page of an app's site is identified by its origin; a registered
 * web domain is an origin (`https://shop.example`) or a bare host (any scheme and port).
 */

/** `value` as an http(s) origin, when it is one. */
export function asOrigin(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return url.origin;
}

/**
 * Every app's web domains as one matcher, with what it was read under: the store's change
 * stamp (while it stays, nothing was written) and the count of changes to apps' web domains
 * (migration 066; while it stays, the apps' domains are as read, whatever else was written).
 */
interface Registered {
  stamp: number | undefined;
  gen: number;
  matches: (url: URL) => boolean;
}

const REGISTERED = registryKey('sdk: registered web origins', () => ({ kept: undefined as Registered | undefined }));

async function registeredOrigins(platform: Platform): Promise<(url: URL) => boolean> {
  const holder = platform.store.registry.get(REGISTERED);
  // Read before the database, so that what is read is never trusted past a write it missed.
  const stamp = platform.store.changeStamp();
  const kept = holder.kept;
  if (kept && stamp !== undefined && kept.stamp === stamp) return kept.matches;
  const row = await platform.db.selectFrom('sdk_web_domain_changes').select('gen').where('id', '=', 1).executeTakeFirstOrThrow();
  const gen = Number(row.gen);
  if (kept && kept.gen === gen) {
    kept.stamp = stamp;
    return kept.matches;
  }
  // The count is read first: a change made while the domains are read moves it past `gen`.
  const rows = await platform.db.selectFrom('apps').select('web_domains').execute();
  const matches = webDomainMatcher(rows.flatMap((r) => JSON.parse(r.web_domains) as string[]));
  holder.kept = { stamp, gen, matches };
  return matches;
}

/** The origin, when some app registered it as a web domain (the SDK v1 proxies serve any app's pages). */
export async function registeredWebOrigin(platform: Platform, value: string): Promise<string | undefined> {
  const origin = asOrigin(value);
  if (!origin) return undefined;
  return (await registeredOrigins(platform))(new URL(origin)) ? origin : undefined;
}
