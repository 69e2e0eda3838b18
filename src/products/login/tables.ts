/**
 * Tables of Kakao Login: authorization codes, login sessions of the browser pages, and
 * AGTs. Created by the core migration (001_core), before login had a module of its own;
 * shipped migrations are never edited. See src/db/schema.ts for the shared conventions.
 */
import type { Bool } from '../../db/schema.js';
import type { TableSpec } from '../../db/tables.js';

export interface AuthCodesTable {
  code_hash: string;
  app_id: number;
  account_id: number;
  redirect_uri: string;
  /** JSON string[]: scopes newly granted or re-confirmed in this authorization. */
  scopes: string;
  code_challenge: string | null;
  code_challenge_method: string | null;
  nonce: string | null;
  auth_time: number;
  expires_at: number;
  /** 0 unused, 1 exchanged, 2 presented again (replayed: what it gave is revoked). */
  used: 0 | 1 | 2;
  /** The refresh token issued from this code (null until exchanged), revoked on a replay. */
  refresh_hash: string | null;
}

export interface LoginSessionsTable {
  session_hash: string;
  account_id: number;
  created_at: number;
  expires_at: number;
}

export interface AgtsTable {
  agt_hash: string;
  app_id: number;
  account_id: number;
  expires_at: number;
}

/** SDK login results waiting to be polled (GET /apiweb/code.json), sealed with the transaction id. */
export interface LoginAuthTransactionsTable {
  app_id: number;
  tran_hash: string;
  result: string;
  expires_at: number;
}

export interface LoginTables {
  login_auth_transactions: LoginAuthTransactionsTable;
  auth_codes: AuthCodesTable;
  login_sessions: LoginSessionsTable;
  agts: AgtsTable;
}

declare module '../../db/schema.js' {
  interface DB extends LoginTables {}
}

export const loginTables: TableSpec[] = [
  // A used code is kept until it expires (and the sweep's grace after): presented again
  // meanwhile, it revokes what its first use gave (store.ts revokeReplayedCode).
  { name: 'auth_codes', json: ['scopes'], expiresAt: 'expires_at' },
  { name: 'login_sessions', json: [], expiresAt: 'expires_at' },
  { name: 'agts', json: [], expiresAt: 'expires_at' },
  { name: 'login_auth_transactions', json: [], expiresAt: 'expires_at' },
];
