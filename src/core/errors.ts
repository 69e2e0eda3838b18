/**
 * Kakao's two error shapes. kapi/dapi answer `{code, msg, ...}`; kauth answers the OAuth
 * shape `{error, error_description, error_code}`. Operations throw these; the one error
 * handler in `core/http.ts` serializes them.
 */

export interface ApiErrorExtras {
  api_type?: string;
  required_scopes?: string[];
  allowed_scopes?: string[];
}

export class KakaoApiError extends Error {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly status: number = 400,
    readonly extras: ApiErrorExtras = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(msg);
  }

  body(): Record<string, unknown> {
    return { msg: this.msg, code: this.code, ...this.extras };
  }
}

export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly errorCode?: string,
    readonly status: number = 400,
  ) {
    super(description);
  }

  body(): Record<string, unknown> {
    const body: Record<string, unknown> = { error: this.error, error_description: this.description };
    if (this.errorCode) body.error_code = this.errorCode;
    return body;
  }
}

/** -2: a missing or invalid parameter; the message names it. */
export function invalidParam(msg: string): KakaoApiError {
  return new KakaoApiError(-2, msg, 400);
}

export const TOKEN_EXPIRED = 'this access token is already expired';
export const TOKEN_UNKNOWN = 'this access token does not exist';

/** -401 with the RFC 6750 header the platform sends. */
export function invalidToken(msg: string): KakaoApiError {
  return new KakaoApiError(-401, msg, 401, {}, { 'www-authenticate': 'Bearer error=invalid_token' });
}

/** -3: the key type used may not call this API. */
export function keyNotAllowed(appKey: string): KakaoApiError {
  return new KakaoApiError(-3, `This api is not allowed by using app_key(${appKey}).`, 403);
}

/** -402: a scope the person has not agreed to. */
export function insufficientScopes(apiType: string, required: string[], allowed: string[]): KakaoApiError {
  return new KakaoApiError(-402, 'insufficient scopes.', 403, {
    api_type: apiType,
    required_scopes: required,
    allowed_scopes: allowed,
  });
}

export function notLinked(): KakaoApiError {
  return new KakaoApiError(-101, 'NotRegisteredUserException', 400);
}

/** Control-plane errors: `{ "error": "…" }` with an HTTP status. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** -3: the app turned off a consent item this API needs (Kakao's message). */
export function consentItemDisabled(appName: string, scope: string, apiType: string): KakaoApiError {
  return new KakaoApiError(-3, `[${appName}] App disabled [${scope}] scopes for [${apiType}] API on developers.kakao.com. Enable it first.`, 403);
}

export const NOT_TALK_USER = 'NotExistTalkUserException';

/** -501: the person does not use Kakao Talk. */
export function notTalkUser(msg = NOT_TALK_USER): KakaoApiError {
  return new KakaoApiError(-501, msg, 400);
}

/**
 * Errors of the `page` surface (pages a browser opens): a rendered HTML page with its
 * status, or a redirect back to the app. Products render the page; core sends it.
 */
export class PageError extends Error {
  constructor(
    readonly status: number,
    readonly html: string,
    message = 'page error',
    /** Sent with the page (its Content-Security-Policy, for one). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class RedirectError extends Error {
  constructor(readonly location: string) {
    super(`redirect to ${location}`);
  }
}
