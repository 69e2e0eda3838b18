import { createHash } from 'node:crypto';
import type { Platform } from '../../core/platform.js';
import { OAuthError, TOKEN_EXPIRED, TOKEN_UNKNOWN } from '../../core/errors.js';
import { sha256 } from '../../core/ids.js';
import type { App, ClientKeyType } from '../../core/model.js';
import { checkWebOrigin, findClient } from './client.js';
import { findAccountById } from '../../store/accounts.js';
import { type Link, findLink, lockLink } from '../../store/links.js';
import { deleteRefreshToken, findRefreshToken, issueTokens, refreshTokenExists, REFRESH_ROTATION_WINDOW_S, type IssuedTokens } from '../../store/tokens.js';
import { consumeCode, createAgt, findCode, handOverCodeTokens, recordCodeTokens, revokeRefreshFamily, revokeReplayedCode, type StoredCode } from './store.js';
import { idToken } from './oidc.js';

/**
 * POST /oauth/token and POST /api/agt, as lists of small checks. Every failure is an OAuth
 * error `{error, error_description, error_code}` (wire facts §2.7).
 */

export type Form = Record<string, string | undefined>;

export interface TokenResponse {
  token_type: 'bearer';
  access_token: string;
  id_token?: string;
  expires_in: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
  scope?: string;
}

function required(form: Form, name: string): string {
  const value = form[name];
  if (!value) throw new OAuthError('invalid_request', `${name} is required.`, 'KOE001');
  return value;
}

/** What the token endpoint reads of the request besides its form. */
export interface TokenRequest {
  /** The origin the request came to: the ID token's `iss`, and Kapibara's own pages' `Origin`. */
  issuer: string;
  /** The Authorization header. */
  authorization?: string;
  /** The `Origin` and `KA` headers: the page a JavaScript key is used from. */
  pageOrigin?: string;
  ka?: string;
}

/**
 * `authorization`: the request's Authorization header. Kakao reads client credentials from
 * form fields only (client_secret_post, the one method its discovery document lists);
 * HTTP Basic (client_secret_basic, the default of many OAuth libraries) is not read, and
 * when the form lacks what the header would have carried the error says so.
 */
export async function exchangeToken(platform: Platform, form: Form, request: TokenRequest): Promise<TokenResponse> {
  const { issuer, authorization } = request;
  const grantType = required(form, 'grant_type');
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
    throw new OAuthError('invalid_request', `unsupported grant_type: ${grantType} (must be authorization_code or refresh_token)`, 'KOE001');
  }
  const basic = authorization !== undefined && /^basic\s/i.test(authorization);
  if (basic && !form.client_id) throw new OAuthError('invalid_request', `client_id is required. ${BASIC_NOT_READ}`, 'KOE001');
  const { app, clientId, keyType } = await checkTokenClient(platform, form.client_id);
  if (basic && app.clientSecret !== null && !form.client_secret) {
    throw new OAuthError('invalid_client', `client_secret is required: the app has the client secret enabled. ${BASIC_NOT_READ}`, 'KOE010', 401);
  }
  checkClientSecret(app, form.client_secret);
  // A JavaScript key is bound to the app's web domains, as on /apiweb/code.json and kapi.
  // android_key_hash and ios_bundle_id are accepted: no Android or iOS platforms are registered.
  if (keyType === 'javascript') {
    checkWebOrigin(app, { pageOrigin: request.pageOrigin, ownOrigin: issuer, ka: request.ka, clientOrigin: form.client_origin });
  }
  const client = { app, clientId, keyType };
  if (grantType === 'authorization_code') return authorizationCodeGrant(platform, client, form, issuer);
  return refreshTokenGrant(platform, client, form, issuer);
}

export const BASIC_NOT_READ =
  'Client credentials in the Authorization header (HTTP Basic, client_secret_basic) are not read: send client_id (and client_secret) as form fields (client_secret_post).';

/** client_id: an app key other than the admin key, of an app with Kakao Login on. */
export async function checkTokenClient(platform: Platform, clientId: string | undefined): Promise<{ app: App; clientId: string; keyType: ClientKeyType }> {
  if (!clientId) throw new OAuthError('invalid_request', 'client_id is required.', 'KOE001');
  const found = await findClient(platform.db, clientId);
  if (!found) throw new OAuthError('invalid_client', `invalid client_id: ${clientId}`, 'KOE101', 401);
  if (!found.app.loginEnabled) throw new OAuthError('unauthorized', `Kakao Login is disabled for app ${found.app.id}.`, 'KOE004', 403);
  return { app: found.app, clientId, keyType: found.keyType };
}

/** When the app turned the client secret on, it must be sent and match (KOE010). */
function checkClientSecret(app: App, clientSecret: string | undefined): void {
  if (app.clientSecret === null) return;
  if (!clientSecret) throw new OAuthError('invalid_client', 'client_secret is required: the app has the client secret enabled.', 'KOE010', 401);
  if (clientSecret !== app.clientSecret) throw new OAuthError('invalid_client', 'Bad client credentials', 'KOE010', 401);
}

/** The app and the key a token request names (findClient never returns the admin key). */
interface TokenClient {
  app: App;
  clientId: string;
  keyType: ClientKeyType;
}

async function authorizationCodeGrant(platform: Platform, { app, clientId, keyType }: TokenClient, form: Form, issuer: string): Promise<TokenResponse> {
  const { db, clock } = platform;
  const code = await findUsableCode(platform, app, required(form, 'code'));
  checkRedirectMatches(code, required(form, 'redirect_uri'));
  checkPkce(code, form.code_verifier);
  if (!(await consumeCode(db, code.hash))) throw await codeReplayed(platform, code);
  const link = await findLink(db, app.id, code.accountId);
  if (!link) throw new OAuthError('invalid_grant', 'authorization code not found: the person is no longer linked to the app.', 'KOE320');
  const tokens = await issueTokens(db, { appId: app.id, accountId: code.accountId, keyType, now: clock.now(), authTime: code.authTime });
  // A replay that came in while these were issued revoked nothing yet: revoke them now.
  const refreshHash = sha256(tokens.refreshToken!);
  if (!(await recordCodeTokens(db, code.hash, refreshHash))) {
    await revokeRefreshFamily(db, refreshHash);
    throw new OAuthError('invalid_grant', 'authorization code already used.', 'KOE320');
  }
  const withOpenid = code.scopes.includes('openid');
  const response = tokenResponse(tokens, scopeString(link, withOpenid));
  if (withOpenid && app.oidcEnabled) {
    response.id_token = await idToken(platform, { issuer, clientId, link, accountId: code.accountId, authTime: code.authTime, nonce: code.nonce, lifetime: tokens.expiresIn });
  }
  return response;
}

/** The code must exist, belong to this app, be unexpired and unused (KOE320). */
async function findUsableCode(platform: Platform, app: App, value: string): Promise<StoredCode> {
  const code = await findCode(platform.db, value);
  if (!code || code.appId !== app.id) throw new OAuthError('invalid_grant', `authorization code not found for code=${value}`, 'KOE320');
  if (code.used) throw await codeReplayed(platform, code);
  if (code.expiresAt <= platform.clock.now()) throw new OAuthError('invalid_grant', 'authorization code expired.', 'KOE320');
  return code;
}

/**
 * A code presented after its first use is refused, and the tokens its first use obtained
 * are revoked (RFC 6749 §4.1.2): whoever replays it may have stolen it.
 */
async function codeReplayed(platform: Platform, code: StoredCode): Promise<OAuthError> {
  await revokeReplayedCode(platform.db, code);
  return new OAuthError('invalid_grant', 'authorization code already used.', 'KOE320');
}

/** redirect_uri must be the one the code was issued for (KOE303). */
function checkRedirectMatches(code: StoredCode, redirectUri: string): void {
  if (redirectUri !== code.redirectUri) throw new OAuthError('invalid_grant', `redirect_uri mismatch: ${redirectUri}`, 'KOE303');
}

/**
 * PKCE (RFC 7636): the verifier is 43–128 unreserved characters and matches the challenge.
 * A verifier for a code issued without a challenge is refused (RFC 9700 §2.1.1: a PKCE
 * downgrade), as a missing one is for a code issued with one.
 */
function checkPkce(code: StoredCode, verifier: string | undefined): void {
  if (!code.codeChallenge) {
    if (verifier) throw new OAuthError('invalid_request', 'code_verifier is not allowed: the authorization did not use PKCE (no code_challenge).', 'KOE001');
    return;
  }
  if (!verifier) throw new OAuthError('invalid_request', 'code_verifier is required: the authorization used PKCE.', 'KOE001');
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) {
    throw new OAuthError('invalid_request', 'invalid code_verifier: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~].', 'KOE001');
  }
  const derived = code.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  if (derived !== code.codeChallenge) throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge.', 'KOE320');
}

/**
 * A refresh issues a new access token. A new refresh token (with its lifetime and the scope)
 * comes only when the old one has less than a month to live; otherwise those are omitted
 * and the client keeps its refresh token.
 */
async function refreshTokenGrant(platform: Platform, { app, clientId, keyType }: TokenClient, form: Form, issuer: string): Promise<TokenResponse> {
  const { db, clock } = platform;
  const value = required(form, 'refresh_token');
  const stored = await findRefreshToken(db, value);
  if (!stored || stored.app_id !== app.id) throw new OAuthError('invalid_grant', `refresh_token not found for client_id=${clientId}`, 'KOE322');
  const now = clock.now();
  if (stored.expires_at <= now) throw new OAuthError('invalid_grant', 'refresh_token expired.', 'KOE322');
  const rotate = stored.expires_at - now < REFRESH_ROTATION_WINDOW_S * 1000;
  // The ID token of a refresh keeps the original authentication time (OIDC Core 12.2).
  const authTime = stored.auth_time ?? stored.created_at;
  // Under the link's lock (store/links.ts lockLink), the refresh token read again: a logout,
  // an unlink, a replayed code or another refresh of it may have deleted it meanwhile, and
  // PostgreSQL runs them side by side. A rotated refresh token is thereby used once.
  const { link, tokens } = await db.transaction().execute(async (tx) => {
    const link = await lockLink(tx, app.id, stored.account_id);
    if (!link) throw new OAuthError('invalid_grant', 'refresh_token not found: the person is no longer linked to the app.', 'KOE322');
    if (!(await refreshTokenExists(tx, stored.token_hash))) throw new OAuthError('invalid_grant', `refresh_token not found for client_id=${clientId}`, 'KOE322');
    const grant = { appId: app.id, accountId: stored.account_id, keyType, now };
    if (!rotate) return { link, tokens: await issueTokens(tx, { ...grant, refresh: { hash: stored.token_hash, expiresAt: stored.expires_at } }) };
    const tokens = await issueTokens(tx, { ...grant, authTime });
    await handOverCodeTokens(tx, stored.token_hash, sha256(tokens.refreshToken!));
    await deleteRefreshToken(tx, stored.token_hash);
    return { link, tokens };
  });
  const withOpenid = link.scopes.openid !== undefined && app.oidcEnabled;
  const response = tokenResponse(tokens, rotate ? scopeString(link, withOpenid) : undefined);
  if (withOpenid) {
    response.id_token = await idToken(platform, { issuer, clientId, link, accountId: stored.account_id, authTime, lifetime: tokens.expiresIn });
  }
  return response;
}

/** Absent optional fields are left out, as Kakao does. */
function tokenResponse(tokens: IssuedTokens, scope: string | undefined): TokenResponse {
  const response: TokenResponse = { token_type: 'bearer', access_token: tokens.accessToken, expires_in: tokens.expiresIn };
  if (tokens.refreshToken) {
    response.refresh_token = tokens.refreshToken;
    response.refresh_token_expires_in = tokens.refreshTokenExpiresIn;
  }
  if (scope) response.scope = scope;
  return response;
}

/** Every scope the person agreed to, space-separated; `openid` only when this grant is OIDC. */
function scopeString(link: Link, withOpenid: boolean): string {
  return Object.keys(link.scopes)
    .filter((s) => s !== 'openid' || withOpenid)
    .join(' ');
}

/** POST /api/agt: a short-lived, single-use token that identifies the person to /oauth/authorize. */
export async function issueAgt(platform: Platform, form: Form): Promise<{ agt: string }> {
  const { app } = await checkTokenClient(platform, form.client_id);
  const accessToken = required(form, 'access_token');
  const owner = await platform.directory.tokenOwner(accessToken);
  if (!owner) throw new OAuthError('invalid_grant', `invalid access_token: ${TOKEN_UNKNOWN}`, 'KOE001', 401);
  if (owner.tokenExpiresAt <= platform.clock.now()) throw new OAuthError('invalid_grant', `invalid access_token: ${TOKEN_EXPIRED}`, 'KOE001', 401);
  if (owner.app.id !== app.id) throw new OAuthError('invalid_grant', 'access_token was issued to another app.', 'KOE001');
  const accountId = owner.account.id;
  if (!(await findAccountById(platform.db, accountId))) throw new OAuthError('invalid_grant', 'invalid access_token.', 'KOE001', 401);
  return { agt: await createAgt(platform.db, app.id, accountId, platform.clock.now()) };
}
