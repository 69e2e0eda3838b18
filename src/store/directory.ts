import { CompiledQuery } from 'kysely';
import type { Directory, TokenOwner } from '../core/auth.js';
import { sha256 } from '../core/ids.js';
import type { AccessTokensTable, AccountsTable, AppsTable, AppUsersTable } from '../db/schema.js';
import type { Store } from '../db/index.js';
import { registryKey } from '../db/registry.js';
import { StampedCache } from '../db/stamped-cache.js';
import { findAppByKey, toApp } from './apps.js';
import { findAccountById, toAccount } from './accounts.js';
import { findLinkByUserId, toLink } from './links.js';

/** Callers as core's auth looks them up, over the core repositories. */
export function storeDirectory(store: Store): Directory {
  const { db } = store;
  return {
    async tokenOwner(token, fresh) {
      // Kept by the token itself (in memory only; the database holds hashes): a kept token
      // costs no hashing.
      const read = async () => ownerFromRow(await queryTokenOwner(store, sha256(token)));
      const owner = fresh ? await read() : await store.registry.get(RESOLVED_TOKENS).get(token, read);
      if (!owner) return null;
      // Callers may change what they get (a link's consents before saving it): hand out copies.
      const { link } = owner;
      return {
        app: { ...owner.app },
        account: { ...owner.account },
        link: { ...link, properties: { ...link.properties }, scopes: { ...link.scopes }, terms: { ...link.terms } },
        tokenExpiresAt: owner.tokenExpiresAt,
      };
    },
    appByKey: (key) => findAppByKey(db, key),
    async linkedPerson(appId, userId) {
      const link = await findLinkByUserId(db, appId, userId);
      const account = link && (await findAccountById(db, link.accountId));
      return link && account ? { link, account } : undefined;
    },
  };
}

/** Resolved tokens (token → owner, null for none) while the store is unchanged. */
const RESOLVED_TOKENS = registryKey('resolved access tokens', (store) => new StampedCache<TokenOwner | null>(store));

/**
 * The hot path of every Bearer call: one indexed lookup (token hash → token, app, person,
 * link) instead of four, as a named prepared statement on PostgreSQL (planned once per
 * connection; Kysely sends every query unnamed). The column lists are checked against the
 * table interfaces: a column added to a table and not listed here is a compile error, so
 * `toApp`/`toAccount`/`toLink` always get whole rows.
 */
async function queryTokenOwner(store: Store, hash: string): Promise<Record<string, unknown> | undefined> {
  const text = store.registry.get(TOKEN_SQL);
  if (store.pool) return (await store.pool.query({ name: 'kapibara_token_context', text, values: [hash] })).rows[0];
  return (await store.db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, [hash]))).rows[0];
}

/** null: no such token, or its link is gone (unlinked), so it no longer identifies anyone. */
function ownerFromRow(row: Record<string, unknown> | undefined): TokenOwner | null {
  if (!row || row.l__user_id === null || row.l__user_id === undefined) return null;
  return {
    app: toApp(pick<AppsTable>(row, 'a__', APP_COLUMNS)),
    account: toAccount(pick<AccountsTable>(row, 'c__', ACCOUNT_COLUMNS)),
    link: toLink(pick<AppUsersTable>(row, 'l__', LINK_COLUMNS)),
    tokenExpiresAt: row.t__expires_at as number,
  };
}

function columnsOf<T>(all: Record<keyof T, true>): readonly string[] {
  return Object.keys(all);
}
const TOKEN_COLUMNS: readonly string[] = ['expires_at' satisfies keyof AccessTokensTable];
const APP_COLUMNS = columnsOf<AppsTable>({
  id: true, name: true, rest_api_key: true, native_key: true, javascript_key: true, admin_key: true,
  client_secret: true, redirect_uris: true, logout_redirect_uris: true, web_domains: true, consent_items: true,
  service_terms: true, user_property_keys: true, login_enabled: true, oidc_enabled: true, manual_signup: true,
  created_at: true,
});
const ACCOUNT_COLUMNS = columnsOf<AccountsTable>({
  id: true, email: true, password: true, nickname: true, profile_image_url: true, thumbnail_image_url: true,
  name: true, gender: true, birthyear: true, birthday: true, birthday_type: true, is_leap_month: true,
  phone_number: true, is_korean: true, email_verified: true, talk_user: true, story_user: true, created_at: true,
});
const LINK_COLUMNS = columnsOf<AppUsersTable>({
  app_id: true, account_id: true, user_id: true, uuid: true, connected_at: true, signed_up_at: true,
  properties: true, scopes: true, terms: true,
});

/** The SQL text, built once per store (its placeholders depend on the dialect). */
const TOKEN_SQL = registryKey(
  'token lookup SQL',
  (store) => {
    const cols = (alias: string, prefix: string, names: readonly string[]) => names.map((c) => `${alias}.${c} AS ${prefix}${c}`);
    return (
      `SELECT ${[
        ...cols('t', 't__', TOKEN_COLUMNS),
        ...cols('a', 'a__', APP_COLUMNS),
        ...cols('c', 'c__', ACCOUNT_COLUMNS),
        ...cols('l', 'l__', LINK_COLUMNS),
      ].join(', ')} FROM access_tokens t` +
      ' JOIN apps a ON a.id = t.app_id JOIN accounts c ON c.id = t.account_id' +
      ' LEFT JOIN app_users l ON l.app_id = t.app_id AND l.account_id = t.account_id' +
      ` WHERE t.token_hash = ${store.dialect === 'postgres' ? '$1' : '?'}`
    );
  },
  { durable: true },
);

/** Splits the joined row back into one table's row (`prefix` + column → column). */
function pick<T>(row: Record<string, unknown>, prefix: string, columns: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const column of columns) out[column] = row[prefix + column];
  return out as T;
}
