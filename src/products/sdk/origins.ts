import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { isAllowedUrl } from '../../core/fetcher.js';
import { listApps } from '../../store/apps.js';
import type { App } from '../../core/model.js';

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

export function isAppOrigin(app: App, origin: string): boolean {
  return isAllowedUrl(new URL(origin), app.webDomains);
}

/** The origin, when some app registered it as a web domain (the SDK v1 proxies serve any app's pages). */
export async function registeredWebOrigin(db: Kysely<DB>, value: string): Promise<string | undefined> {
  const origin = asOrigin(value);
  if (!origin) return undefined;
  const apps = await listApps(db);
  return apps.some((a) => isAppOrigin(a, origin)) ? origin : undefined;
}
