import { type Kysely, type Selectable, sql } from 'kysely';
import type { AppsTable, DB } from '../db/schema.js';
import type { ConsentSetting } from '../core/scopes.js';
import type { App, KeyType, ServiceTerm } from '../core/model.js';
import { appKey } from '../core/ids.js';
import { issueIdsAbove, withIssuedId } from '../db/ids.js';
import { inTransaction, isPostgres } from '../db/dialect.js';

export type { App, KeyType, ServiceTerm };

export interface AppInput {
  id?: number;
  name?: string;
  keys?: Partial<Record<KeyType, string>>;
  clientSecret?: string | null;
  redirectUris?: string[];
  logoutRedirectUris?: string[];
  webDomains?: string[];
  consentItems?: Record<string, ConsentSetting>;
  serviceTerms?: ServiceTerm[];
  userPropertyKeys?: string[];
  loginEnabled?: boolean;
  oidcEnabled?: boolean;
  manualSignup?: boolean;
}

/**
 * An app as JSON (control plane bodies, state-format rows): snake_case columns with
 * structured values decoded. Booleans may be 0/1 as stored.
 */
export interface AppJson {
  id?: number;
  name?: string;
  rest_api_key?: string;
  native_key?: string;
  javascript_key?: string;
  admin_key?: string;
  client_secret?: string | null;
  redirect_uris?: string[];
  logout_redirect_uris?: string[];
  web_domains?: string[];
  consent_items?: Record<string, ConsentSetting>;
  service_terms?: { tag: string; title?: string; required?: boolean; revocable?: boolean }[];
  user_property_keys?: string[];
  login_enabled?: boolean | 0 | 1;
  oidc_enabled?: boolean | 0 | 1;
  manual_signup?: boolean | 0 | 1;
}

const optionalBool = (v: boolean | 0 | 1 | undefined) => (v === undefined ? undefined : Boolean(v));

export function appInputFromJson(j: AppJson): AppInput {
  return {
    id: j.id,
    name: j.name,
    keys: { rest_api: j.rest_api_key, native: j.native_key, javascript: j.javascript_key, admin: j.admin_key },
    clientSecret: j.client_secret,
    redirectUris: j.redirect_uris,
    logoutRedirectUris: j.logout_redirect_uris,
    webDomains: j.web_domains,
    consentItems: j.consent_items,
    // A term is optional unless marked required, and only optional terms can be withdrawn by default.
    serviceTerms: j.service_terms?.map((t) => ({
      tag: t.tag,
      title: t.title ?? t.tag,
      required: t.required ?? false,
      revocable: t.revocable ?? !(t.required ?? false),
    })),
    userPropertyKeys: j.user_property_keys,
    loginEnabled: optionalBool(j.login_enabled),
    oidcEnabled: optionalBool(j.oidc_enabled),
    manualSignup: optionalBool(j.manual_signup),
  };
}

export const DEFAULT_CONSENT_ITEMS: Record<string, ConsentSetting> = {
  profile_nickname: 'required',
  profile_image: 'optional',
  account_email: 'optional',
};

export function toApp(row: Selectable<AppsTable>): App {
  return {
    id: row.id,
    name: row.name,
    keys: {
      rest_api: row.rest_api_key,
      native: row.native_key,
      javascript: row.javascript_key,
      admin: row.admin_key,
    },
    clientSecret: row.client_secret,
    redirectUris: JSON.parse(row.redirect_uris),
    logoutRedirectUris: JSON.parse(row.logout_redirect_uris),
    webDomains: JSON.parse(row.web_domains),
    consentItems: JSON.parse(row.consent_items),
    serviceTerms: JSON.parse(row.service_terms),
    userPropertyKeys: JSON.parse(row.user_property_keys),
    loginEnabled: row.login_enabled === 1,
    oidcEnabled: row.oidc_enabled === 1,
    manualSignup: row.manual_signup === 1,
    createdAt: row.created_at,
  };
}

function columns(input: AppInput): Partial<Selectable<AppsTable>> {
  const out: Partial<Selectable<AppsTable>> = {};
  if (input.name !== undefined) out.name = input.name;
  if (input.keys?.rest_api) out.rest_api_key = input.keys.rest_api;
  if (input.keys?.native) out.native_key = input.keys.native;
  if (input.keys?.javascript) out.javascript_key = input.keys.javascript;
  if (input.keys?.admin) out.admin_key = input.keys.admin;
  if (input.clientSecret !== undefined) out.client_secret = input.clientSecret;
  if (input.redirectUris) out.redirect_uris = JSON.stringify(input.redirectUris);
  if (input.logoutRedirectUris) out.logout_redirect_uris = JSON.stringify(input.logoutRedirectUris);
  if (input.webDomains) out.web_domains = JSON.stringify(input.webDomains);
  if (input.consentItems) out.consent_items = JSON.stringify(input.consentItems);
  if (input.serviceTerms) out.service_terms = JSON.stringify(input.serviceTerms);
  if (input.userPropertyKeys) out.user_property_keys = JSON.stringify(input.userPropertyKeys);
  if (input.loginEnabled !== undefined) out.login_enabled = input.loginEnabled ? 1 : 0;
  if (input.oidcEnabled !== undefined) out.oidc_enabled = input.oidcEnabled ? 1 : 0;
  if (input.manualSignup !== undefined) out.manual_signup = input.manualSignup ? 1 : 0;
  return out;
}

const KEY_COLUMNS = ['rest_api_key', 'native_key', 'javascript_key', 'admin_key'] as const;

/**
 * A key is found by its value alone (findAppByKey), so it must be no other key anywhere: not
 * another app's of any kind, not another of the same app's. The database only keeps each
 * column unique. Throws an error the control plane answers with 409.
 */
async function checkKeysFree(db: Kysely<DB>, keys: string[], appId: number | undefined): Promise<void> {
  if (new Set(keys).size !== keys.length) throw new AppKeyTaken('an app\'s four keys must differ (duplicate key)');
  const taken = await db
    .selectFrom('apps')
    .select(['id', ...KEY_COLUMNS])
    .where((eb) => eb.or(KEY_COLUMNS.map((c) => eb(c, 'in', keys))))
    .execute();
  for (const row of taken) {
    if (row.id === appId) continue;
    const key = keys.find((k) => KEY_COLUMNS.some((c) => row[c] === k));
    throw new AppKeyTaken(`duplicate key: ${key} is already a key of app ${row.id}`);
  }
}

export class AppKeyTaken extends Error {}

/** Keys used twice across all apps (any column), after an import: the first one, if any. */
export async function firstSharedKey(db: Kysely<DB>): Promise<string | undefined> {
  const rows = await db.selectFrom('apps').select(KEY_COLUMNS).execute();
  const seen = new Set<string>();
  for (const row of rows) {
    for (const c of KEY_COLUMNS) {
      if (seen.has(row[c])) return row[c];
      seen.add(row[c]);
    }
  }
  return undefined;
}

export async function createApp(db: Kysely<DB>, input: AppInput, now: number): Promise<App> {
  if (input.id !== undefined) {
    await issueIdsAbove(db, 'app', input.id);
    return insertApp(db, input, input.id, now);
  }
  // An issued id can meet one another instance was given at the same moment: drawn again.
  return withIssuedId(db, 'app', 'apps', (id) => insertApp(db, input, id, now));
}

async function insertApp(db: Kysely<DB>, input: AppInput, id: number, now: number): Promise<App> {
  const row: Selectable<AppsTable> = {
    id,
    name: 'Kapibara app',
    rest_api_key: appKey(),
    native_key: appKey(),
    javascript_key: appKey(),
    admin_key: appKey(),
    client_secret: null,
    redirect_uris: '[]',
    logout_redirect_uris: '[]',
    web_domains: '[]',
    consent_items: JSON.stringify(DEFAULT_CONSENT_ITEMS),
    service_terms: '[]',
    user_property_keys: '[]',
    login_enabled: 1,
    oidc_enabled: 0,
    manual_signup: 0,
    created_at: now,
    ...columns(input),
  };
  await withKeysLocked(db, async (tx) => {
    await checkKeysFree(tx, KEY_COLUMNS.map((c) => row[c]), undefined);
    await tx.insertInto('apps').values(row).execute();
  });
  return toApp(row);
}

export async function updateApp(db: Kysely<DB>, id: number, input: AppInput): Promise<App | undefined> {
  const set = columns(input);
  if (KEY_COLUMNS.some((c) => set[c] !== undefined)) {
    await withKeysLocked(db, async (tx) => {
      const current = await tx.selectFrom('apps').select(KEY_COLUMNS).where('id', '=', id).executeTakeFirst();
      if (current) await checkKeysFree(tx, KEY_COLUMNS.map((c) => set[c] ?? current[c]), id);
      await tx.updateTable('apps').set(set).where('id', '=', id).execute();
    });
  } else if (Object.keys(set).length > 0) {
    await db.updateTable('apps').set(set).where('id', '=', id).execute();
  }
  return findAppById(db, id);
}

/**
 * Runs a key check and the write it allows as one transaction that no other app write
 * runs beside: each key column is unique by itself, but no index spans the four, and on
 * PostgreSQL two apps made at once with one key of two kinds both passed the check (SQLite's
 * one writer takes them in turn). SHARE ROW EXCLUSIVE lets reads and foreign-key checks of
 * apps go on; an import, which checks its keys at its end (firstSharedKey), waits or is
 * waited for.
 */
async function withKeysLocked(db: Kysely<DB>, write: (tx: Kysely<DB>) => Promise<void>): Promise<void> {
  const locked = async (tx: Kysely<DB>) => {
    if (isPostgres(tx)) await sql`LOCK TABLE apps IN SHARE ROW EXCLUSIVE MODE`.execute(tx);
    await write(tx);
  };
  // An import makes its apps in its own transaction.
  await inTransaction(db, locked);
}

export async function findAppById(db: Kysely<DB>, id: number): Promise<App | undefined> {
  const row = await db.selectFrom('apps').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toApp(row);
}

/** Apps by id, from the one after `after`: at most `limit` (the primary key's range). */
export async function listAppsPage(db: Kysely<DB>, after: number | undefined, limit: number): Promise<App[]> {
  let q = db.selectFrom('apps').selectAll();
  if (after !== undefined) q = q.where('id', '>', after);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map(toApp);
}

/** The apps of `ids` (a person's links), by id. */
export async function findAppsByIds(db: Kysely<DB>, ids: number[]): Promise<App[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('apps').selectAll().where('id', 'in', ids).orderBy('id').execute();
  return rows.map(toApp);
}

export async function listApps(db: Kysely<DB>): Promise<App[]> {
  const rows = await db.selectFrom('apps').selectAll().orderBy('created_at').execute();
  return rows.map(toApp);
}

/** Finds the app owning `key` and which of its keys it is. */
export async function findAppByKey(db: Kysely<DB>, key: string): Promise<{ app: App; keyType: KeyType } | undefined> {
  const row = await db
    .selectFrom('apps')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('rest_api_key', '=', key),
        eb('native_key', '=', key),
        eb('javascript_key', '=', key),
        eb('admin_key', '=', key),
      ]),
    )
    .executeTakeFirst();
  if (!row) return undefined;
  const app = toApp(row);
  const keyType = (Object.keys(app.keys) as KeyType[]).find((t) => app.keys[t] === key)!;
  return { app, keyType };
}

export async function deleteApp(db: Kysely<DB>, id: number): Promise<boolean> {
  const res = await db.deleteFrom('apps').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}
