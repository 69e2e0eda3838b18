import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { App, ClientKeyType } from '../../core/model.js';
import { findAppByKey } from '../../store/apps.js';
import { OAuthError } from '../../core/errors.js';
import { isAllowedUrlText } from '../../core/fetcher.js';
import { kaOrigin } from '../../core/auth.js';

export interface Client {
  app: App;
  keyType: ClientKeyType;
  clientId: string;
}

/**
 * The app behind a `client_id`: any of its keys but the admin key. The pages and the token
 * endpoint each answer a missing or unknown one in their own surface's shape.
 */
export async function findClient(db: Kysely<DB>, clientId: string): Promise<Client | undefined> {
  const found = await findAppByKey(db, clientId);
  if (!found || found.keyType === 'admin') return undefined;
  return { app: found.app, keyType: found.keyType, clientId };
}

/**
 * Where a browser-side request comes from, as the SDKs say it: the `Origin` header a browser
 * sets, else the `origin/` of `KA` (what the SDKs report), else the `client_origin` form field
 * (SDK v1's login widget). An `Origin` that is Kapibara's own (`ownOrigin`) is one of its own
 * pages calling for the page that framed it (SDK v1's login widget), which names that page in
 * `KA` or `client_origin`; it is passed over.
 */
export interface WebCaller {
  pageOrigin?: string;
  ownOrigin?: string;
  ka?: string;
  clientOrigin?: string;
}

/**
 * The page must be on one of the app's web domains: `misconfigured` / KOE009 otherwise (wire
 * facts §1.4, §2.2). A request that names no page (a server) is not checked.
 */
export function checkWebOrigin(app: App, caller: WebCaller): void {
  const pageOrigin = caller.pageOrigin === caller.ownOrigin ? undefined : caller.pageOrigin;
  const ka = kaOrigin(caller.ka);
  const [origin, from] = pageOrigin !== undefined ? [pageOrigin, 'Origin'] : ka !== undefined ? [ka, 'KA'] : [caller.clientOrigin, 'client_origin'];
  if (origin !== undefined && !isAllowedUrlText(origin, app.webDomains)) {
    throw new OAuthError('misconfigured', `origin ${origin} (from ${from}) is not a registered web domain of app ${app.id}.`, 'KOE009', 401);
  }
}
