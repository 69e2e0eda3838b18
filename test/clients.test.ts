import { after, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as oidc from 'openid-client';
import { forEachStore, type Harness } from './helpers/harness.js';
import { FormBrowser, mappedAgent } from './helpers/browser.js';
import { listenTls, type TlsListener } from '../src/core/tls.js';

/**
 * Unmodified third-party clients against a listening Kapibara: openid-client (discovery,
 * PKCE, ID token verification against the JWKS, userinfo) over plain HTTP with a base URL,
 * and passport-kakao (hard-coded https://kauth.kakao.com and https://kapi.kakao.com) with
 * those hosts mapped to Kapibara's TLS port at the network layer.
 */

const require = createRequire(import.meta.url);

interface KakaoProfile {
  provider: string;
  id: number;
  username: string;
  displayName: string;
  _json: Record<string, any>;
}
interface PassportKakaoStrategy {
  name: string;
  _oauth2: {
    setAgent(agent: unknown): void;
    getOAuthAccessToken(code: string, params: Record<string, string>, cb: (err: any, at: string, rt: string, params: any) => void): void;
  };
  authenticate(req: unknown, options?: unknown): void;
  userProfile(accessToken: string, done: (err: any, profile?: KakaoProfile) => void): void;
}
type StrategyCtor = new (
  options: { clientID: string; clientSecret?: string; callbackURL: string },
  verify: (accessToken: string, refreshToken: string, params: any, profile: KakaoProfile, done: (err: any, user?: unknown) => void) => void,
) => PassportKakaoStrategy;
const { Strategy: KakaoStrategy } = require('passport-kakao') as { Strategy: StrategyCtor };

const CALLBACK = 'http://localhost:3000/auth/kakao/callback';

forEachStore('third-party clients', (h: Harness) => {
  let tlsListener: TlsListener | undefined;
  after(async () => tlsListener?.close());

  async function setup(extra: Record<string, unknown> = {}) {
    const app = await h.createApp({
      name: 'Client Test',
      redirect_uris: [CALLBACK],
      oidc_enabled: true,
      consent_items: { profile_nickname: 'required', profile_image: 'optional', account_email: 'optional', openid: 'optional' },
      ...extra,
    });
    const person = await h.createAccount({ nickname: 'Apeach', email: 'apeach@example.com', profile_image_url: 'http://img.example/apeach.png' });
    return { app, person };
  }

  it('openid-client: discovery, PKCE + nonce, code grant with id_token verified against the JWKS, userinfo', async () => {
    const origin = await h.listen();
    const { app, person } = await setup({ client_secret: 'shh-secret' });
    const config = await oidc.discovery(new URL(origin), app.rest_api_key, 'shh-secret', oidc.ClientSecretPost('shh-secret'), {
      execute: [oidc.allowInsecureRequests],
    });
    assert.equal(config.serverMetadata().issuer, origin);

    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid profile_nickname account_email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
    });
    const callback = await new FormBrowser().authorize(url.href, person.id, { optional: ['account_email'] });
    assert.equal(callback.searchParams.get('state'), state);

    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state });
    assert.equal(tokens.token_type, 'bearer');
    assert.ok(tokens.refresh_token);
    const claims = tokens.claims()!;
    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    assert.equal(claims.sub, String(link.user_id));
    assert.equal(claims.iss, origin);
    assert.equal(claims.aud, app.rest_api_key);
    assert.equal(claims.nonce, nonce);
    assert.equal(claims.nickname, 'Apeach');
    assert.equal(claims.email, 'apeach@example.com');

    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(userinfo.sub, String(link.user_id));
    assert.equal(userinfo.nickname, 'Apeach');
    assert.equal(userinfo.email, 'apeach@example.com');

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.access_token, tokens.access_token);
  });

  it('openid-client: a wrong PKCE verifier is rejected with the OAuth error', async () => {
    const origin = await h.listen();
    const { app, person } = await setup();
    const config = await oidc.discovery(new URL(origin), app.rest_api_key, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = await new FormBrowser().authorize(url.href, person.id);
    await assert.rejects(
      oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), idTokenExpected: true }),
      (err: any) => err.error === 'invalid_grant',
    );
  });

  it('passport-kakao: its hard-coded https hosts reach Kapibara through a mapped agent; the profile parses', async () => {
    tlsListener ??= await listenTls(h.app, { port: 0 });
    const agent = mappedAgent(tlsListener.port, tlsListener.cert);
    const { app, person } = await setup();
    let verified: { accessToken: string; refreshToken: string; profile: KakaoProfile } | undefined;
    const strategy = new KakaoStrategy({ clientID: app.rest_api_key, callbackURL: CALLBACK }, (accessToken, refreshToken, _params, profile, done) => {
      verified = { accessToken, refreshToken, profile };
      done(null, { id: profile.id });
    });
    strategy._oauth2.setAgent(agent);

    // Step 1, as passport runs it: no code yet, so the strategy redirects to kauth.
    const redirect = await run(strategy, { query: {} });
    assert.equal(redirect.kind, 'redirect');
    const authorizeUrl = new URL(redirect.value as string);
    assert.equal(authorizeUrl.origin, 'https://kauth.kakao.com');
    assert.equal(authorizeUrl.searchParams.get('response_type'), 'code');

    // The person logs in and agrees (the browser reaches kauth.kakao.com through the same mapping).
    const callback = await new FormBrowser(agent).authorize(authorizeUrl.href, person.id);
    assert.equal(`${callback.origin}${callback.pathname}`, CALLBACK);
    const code = callback.searchParams.get('code')!;

    // Step 2: the callback; passport exchanges the code and loads the profile from kapi.
    const result = await run(strategy, { query: { code } });
    // passport-kakao's userProfile sends the token as `?access_token=` on GET /v2/user/me (node-oauth's
    // default), which the real kapi accepts.
    assert.equal(result.kind, 'success', `passport failed: ${JSON.stringify(result.value)} (kapi must accept GET /v2/user/me?access_token=…)`);
    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    assert.deepEqual(result.value, { id: link.user_id });
    assert.ok(verified);
    assert.equal(verified.profile.provider, 'kakao');
    assert.equal(verified.profile.id, link.user_id);
    assert.equal(verified.profile.username, 'Apeach');
    assert.equal(verified.profile.displayName, 'Apeach');
    assert.equal(verified.profile._json.properties.nickname, 'Apeach');
    assert.ok(verified.refreshToken);

    // The token call on its own, as `_oauth2.getOAuthAccessToken` does it: a reused code fails.
    const err = await new Promise<any>((resolve) =>
      strategy._oauth2.getOAuthAccessToken(code, { grant_type: 'authorization_code', redirect_uri: CALLBACK }, (e) => resolve(e)),
    );
    assert.equal(err.statusCode, 400);
    assert.equal(JSON.parse(err.data).error_code, 'KOE320');
  });
});

/** Runs a passport strategy once the way passport's middleware does, capturing how it ends. */
function run(strategy: PassportKakaoStrategy, req: Record<string, unknown>): Promise<{ kind: string; value: unknown }> {
  return new Promise((resolve) => {
    const attempt = Object.create(strategy) as PassportKakaoStrategy & Record<string, unknown>;
    attempt.redirect = (url: string) => resolve({ kind: 'redirect', value: url });
    attempt.success = (user: unknown) => resolve({ kind: 'success', value: user });
    attempt.fail = (info: unknown) => resolve({ kind: 'fail', value: info });
    attempt.error = (err: Error & { oauthError?: unknown }) => resolve({ kind: 'error', value: err instanceof Error ? { message: err.message, oauth: err.oauthError } : err });
    attempt.authenticate({ url: '/auth/kakao/callback', headers: {}, ...req }, {});
  });
}
