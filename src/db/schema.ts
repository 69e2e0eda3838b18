/**
 * Table types. Conventions shared by every table so one schema serves SQLite and
 * PostgreSQL: ids and timestamps are integers (bigint; timestamps in epoch milliseconds of
 * the platform clock), booleans are 0/1 integers, structured values are JSON text.
 *
 * These are the core aggregates' tables. Each product declares its own in
 * `src/products/<product>/tables.ts` and adds them to `DB` by declaration merging:
 *
 *   declare module '../../db/schema.js' { interface DB extends TalkTables {} }
 */

export type Bool = 0 | 1;

export interface AppsTable {
  id: number;
  name: string;
  rest_api_key: string;
  native_key: string;
  javascript_key: string;
  admin_key: string;
  /** null: client secret not enabled. */
  client_secret: string | null;
  /** JSON string[] */
  redirect_uris: string;
  /** JSON string[] */
  logout_redirect_uris: string;
  /** JSON string[]: web domains (origins like `https://example.com` or host names). */
  web_domains: string;
  /** JSON Record<scopeId, 'required' | 'optional' | 'disabled'> */
  consent_items: string;
  /** JSON ServiceTerm[] */
  service_terms: string;
  /** JSON string[]: custom user property keys (beyond nickname/profile_image/thumbnail_image). */
  user_property_keys: string;
  login_enabled: Bool;
  oidc_enabled: Bool;
  /** 0: auto-link on login (default); 1: the app calls /v1/user/signup itself. */
  manual_signup: Bool;
  created_at: number;
}

export interface AccountsTable {
  id: number;
  email: string;
  /** A scrypt hash (core/passwords.ts); the column kept its name when passwords got hashed. */
  password: string;
  nickname: string;
  profile_image_url: string | null;
  thumbnail_image_url: string | null;
  name: string | null;
  gender: string | null;
  birthyear: string | null;
  /** MMDD */
  birthday: string | null;
  birthday_type: string | null;
  is_leap_month: Bool;
  phone_number: string | null;
  is_korean: Bool | null;
  email_verified: Bool;
  talk_user: Bool;
  story_user: Bool;
  created_at: number;
}

export interface AppUsersTable {
  app_id: number;
  account_id: number;
  /** App-specific service user id. */
  user_id: number;
  /** Opaque id the app's messages address this person by (`uuid` in friends lists). */
  uuid: string;
  connected_at: number;
  /** null until the app signs the person up (manual signup apps). */
  signed_up_at: number | null;
  /** JSON Record<string,string> */
  properties: string;
  /** JSON Record<scopeId, agreedAtMs> */
  scopes: string;
  /** JSON Record<tag, { agreed_at: number, agreed_by: 'KAUTH' | 'KAPI' }> */
  terms: string;
}

export interface AccessTokensTable {
  token_hash: string;
  app_id: number;
  account_id: number;
  refresh_hash: string | null;
  expires_at: number;
  created_at: number;
}

export interface RefreshTokensTable {
  token_hash: string;
  app_id: number;
  account_id: number;
  expires_at: number;
  created_at: number;
  /** When the person authenticated (ms); null for tokens stored before migration 008. */
  auth_time: number | null;
}

export interface FriendshipsTable {
  account_id: number;
  friend_account_id: number;
  /** Whether account_id marked friend_account_id as a favorite. */
  favorite: Bool;
  created_at: number;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface CoreTables {
  apps: AppsTable;
  accounts: AccountsTable;
  app_users: AppUsersTable;
  access_tokens: AccessTokensTable;
  refresh_tokens: RefreshTokensTable;
  friendships: FriendshipsTable;
  settings: SettingsTable;
}

/** Every table: the core ones, and what each product merges in. */
export interface DB extends CoreTables {}
