import type { Platform } from '../../core/platform.js';
import { OAuthError } from '../../core/errors.js';
import { hasScope } from '../../core/scopes.js';
import { urlForClient } from '../../core/own-urls.js';
import { findAccountById } from '../../store/accounts.js';
import type { Link } from '../../store/links.js';
import type { App } from '../../store/apps.js';

/** OpenID Connect: discovery, the ID token and its verification (wire facts §2.6). */

export function discoveryDocument(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    userinfo_endpoint: `${issuer}/v1/oidc/userinfo`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    token_endpoint_auth_methods_supported: ['client_secret_post'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    request_uri_parameter_supported: false,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256', 'plain'],
    claims_supported: ['iss', 'aud', 'sub', 'auth_time', 'exp', 'iat', 'nonce', 'nickname', 'picture', 'email'],
  };
}

export interface IdTokenInput {
  issuer: string;
  clientId: string;
  link: Link;
  accountId: number;
  authTime: number;
  nonce?: string;
  /** Seconds to `exp`: the lifetime of the access token issued with it. */
  lifetime: number;
}

/** RS256, `kid` in the header; profile claims only for items the person agreed to. */
export async function idToken(platform: Platform, input: IdTokenInput): Promise<string> {
  const now = platform.clock.nowSeconds();
  const account = await findAccountById(platform.db, input.accountId);
  const claims: Record<string, unknown> = {
    aud: input.clientId,
    sub: String(input.link.userId),
    auth_time: Math.floor(input.authTime / 1000),
    iss: input.issuer,
    exp: now + input.lifetime,
    iat: now,
  };
  if (input.nonce !== undefined) claims.nonce = input.nonce;
  const agreed = input.link.scopes;
  if (account && hasScope(agreed, 'profile_nickname')) claims.nickname = account.nickname;
  if (account?.profileImageUrl && hasScope(agreed, 'profile_image')) claims.picture = urlForClient(account.profileImageUrl, input.issuer);
  if (account && hasScope(agreed, 'account_email')) claims.email = account.email;
  return platform.keys.sign(claims);
}

/** POST /oauth/tokeninfo: the payload of a valid, unexpired ID token signed by this platform. */
export async function idTokenInfo(platform: Platform, token: string | undefined): Promise<Record<string, unknown>> {
  if (!token) throw new OAuthError('invalid_request', 'id_token is required.', 'KOE001');
  try {
    return await platform.keys.verify(token, { currentDate: new Date(platform.clock.now()) });
  } catch (err) {
    const reason = (err as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'id_token expired' : 'invalid id_token';
    throw new OAuthError('invalid_request', `${reason}: ${(err as Error).message}`, 'KOE001');
  }
}

/**
 * The ID token of tokens minted without a browser (the control plane): what a login right
 * now with these scopes would carry, `aud` being the REST API key (whose lifetime the
 * minted tokens have). None without `openid`
 * in the scopes or with OpenID Connect off for the app, as at /oauth/token.
 */
export async function mintedIdToken(
  platform: Platform,
  input: { app: App; link: Link; scopes: string[]; issuer: string; nonce?: string; lifetime: number },
): Promise<string | undefined> {
  if (!input.scopes.includes('openid') || !input.app.oidcEnabled) return undefined;
  const { app, link, issuer, nonce, lifetime } = input;
  return idToken(platform, { issuer, clientId: app.keys.rest_api, link, accountId: link.accountId, authTime: platform.clock.now(), nonce, lifetime });
}
