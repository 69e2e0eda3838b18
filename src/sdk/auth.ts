import { KAPIBARA_ORIGIN, KakaoError, appKey, checkSettings, cleanups, isBoolean, isString, kakaoAgent, queryString, randomString, runtime } from './common.js';
import { send } from './http.js';

/**
 * `Kakao.Auth`: authorize (a full-page redirect, or a popup whose result the SDK polls from
 * kauth `/apiweb/code.json` once a second, as Kakao's SDK v2 does), the access token the API
 * calls use, and logout.
 */

const POLL_INTERVAL_MS = 1000;
/** Ten minutes of polling, then the login times out. */
const POLL_LIMIT = 600;

const authorizeSpec = {
  optional: {
    redirectUri: isString,
    state: isString,
    scope: isString,
    prompts: isString,
    prompt: isString,
    loginHint: isString,
    nonce: isString,
    serviceTerms: isString,
    channelPublicId: isString,
    approvalType: isString,
    deviceType: isString,
    throughTalk: isBoolean,
    isPopup: isBoolean,
  },
};

export interface AuthorizeResult {
  code?: string;
  state?: string;
  error?: string;
  error_description?: string;
}

export function authorize(settings: unknown = {}): Promise<AuthorizeResult> {
  const s = checkSettings(settings, authorizeSpec, 'Auth.authorize');
  const authTranId = randomString(60);
  const params: Record<string, unknown> = {
    client_id: appKey('Auth.authorize'),
    redirect_uri: (s.redirectUri as string | undefined) ?? 'JS-SDK',
    response_type: 'code',
    auth_tran_id: authTranId,
    ka: kakaoAgent(),
    is_popup: s.isPopup === true,
    scope: s.scope,
    state: s.state,
    prompt: s.prompts ?? s.prompt,
    login_hint: s.loginHint,
    nonce: s.nonce,
    channel_public_id: s.channelPublicId,
    'extra.service_terms': s.serviceTerms,
    approval_type: s.approvalType,
    device_type: s.deviceType,
  };
  const url = `${KAPIBARA_ORIGIN}/oauth/authorize?${queryString(params)}`;
  if (s.isPopup !== true) {
    location.href = url;
    // The page navigates away; the result arrives at the redirect URI.
    return new Promise(() => undefined);
  }
  const popup = window.open(url, '_blank', popupFeatures(480, 700));
  if (!popup) throw new KakaoError('Auth.authorize: the browser blocked the login popup; call it from a click handler.');
  return pollCode(authTranId, s, popup);
}

function pollCode(authTranId: string, s: Record<string, unknown>, popup: Window): Promise<AuthorizeResult> {
  return new Promise((resolve, reject) => {
    let count = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    cleanups.push(stop);
    const finish = (result: AuthorizeResult) => {
      stop();
      if (!popup.closed) popup.close();
      if (result.error) reject(result);
      else resolve(result);
      redirectWithResult(s.redirectUri as string | undefined, result);
    };
    const tick = () => {
      timer = setTimeout(() => {
        if (++count > POLL_LIMIT) {
          finish({ error: 'timeout', error_description: 'LOGIN_TIMEOUT', ...(s.state ? { state: s.state as string } : {}) });
          return;
        }
        const query = queryString({ client_id: runtime.appKey, auth_tran_id: authTranId, ka: kakaoAgent() });
        const closed = popup.closed;
        send({ method: 'GET', path: `/apiweb/code.json?${query}` }).then(
          (body: Record<string, string>) => {
            const { status, error_code, ...rest } = body;
            void status;
            if (error_code === '300') {
              // Not answered yet; a closed popup will never answer: the login was cancelled.
              if (closed) finish({ error: 'access_denied', error_description: 'The login window was closed before the person answered.', ...(s.state ? { state: s.state as string } : {}) });
              return;
            }
            finish(rest);
          },
          (err: AuthorizeResult) => finish(err),
        );
        if (timer !== undefined) tick();
      }, POLL_INTERVAL_MS);
    };
    tick();
  });
}

function redirectWithResult(redirectUri: string | undefined, result: AuthorizeResult): void {
  if (!redirectUri) return;
  location.href = `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${queryString(result as Record<string, unknown>)}`;
}

export function popupFeatures(width: number, height: number): string {
  const left = window.screenX + Math.max(0, (window.outerWidth - width) / 2);
  const top = window.screenY + Math.max(0, (window.outerHeight - height) / 2);
  return `width=${width},height=${height},left=${left},top=${top},scrollbars=yes,resizable=1`;
}

export function setAccessToken(token: unknown): void {
  if (token !== null && !isString(token)) throw new KakaoError('Auth.setAccessToken: the token must be a string (or null to forget it).');
  appKey('Auth.setAccessToken');
  runtime.accessToken = token ?? undefined;
}

export function getAccessToken(): string | null {
  appKey('Auth.getAccessToken');
  return runtime.accessToken ?? null;
}

/** POST /v1/user/logout with the token; the SDK forgets the token whatever the answer. */
export function logout(): Promise<any> {
  appKey('Auth.logout');
  const token = runtime.accessToken;
  if (!token) return Promise.reject(new KakaoError('Auth.logout: there is no access token; log in or call Auth.setAccessToken first.'));
  const done = send({ method: 'POST', path: '/v1/user/logout', authorization: `Bearer ${token}` });
  const forget = () => {
    if (runtime.accessToken === token) runtime.accessToken = undefined;
  };
  done.then(forget, forget);
  return done;
}

export function getAppKey(): string {
  return appKey('Auth.getAppKey');
}

/**
 * Whether the token (Auth.setAccessToken, or the last login's) is good: `{ status:
 * 'connected', user }` with `/v2/user/me`'s answer, or `{ status: 'not_connected' }`
 * without a token or when the platform refuses it.
 */
export function getStatusInfo(): Promise<{ status: 'connected'; user: unknown } | { status: 'not_connected' }> {
  appKey('Auth.getStatusInfo');
  const token = runtime.accessToken;
  if (!token) return Promise.resolve({ status: 'not_connected' });
  return send({ method: 'GET', path: '/v2/user/me', authorization: `Bearer ${token}` }).then(
    (user: unknown) => ({ status: 'connected' as const, user }),
    () => ({ status: 'not_connected' as const }),
  );
}

export const Auth = { authorize, setAccessToken, getAccessToken, getAppKey, getStatusInfo, logout };
