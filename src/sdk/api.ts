import { KakaoError, appKey, checkSettings, isFunction, isObject, isString, runtime } from './common.js';
import { type Method, send } from './http.js';

/**
 * `Kakao.API.request({url, data, files})`: the kapi APIs a browser may call, each with the
 * method and credentials Kakao's SDK uses for it (the access token, or the app key).
 */

type Credential = 'token' | 'appKey';

const APIS: Record<string, [Method, Credential?]> = {
  '/v1/user/signup': ['POST'],
  '/v1/user/unlink': ['POST'],
  '/v2/user/me': ['GET'],
  '/v1/user/logout': ['POST'],
  '/v1/user/update_profile': ['POST'],
  '/v1/user/access_token_info': ['GET'],
  '/v2/user/scopes': ['GET'],
  '/v2/user/revoke/scopes': ['POST'],
  '/v2/user/service_terms': ['GET'],
  '/v2/user/revoke/service_terms': ['POST'],
  '/v1/user/shipping_address': ['GET'],
  '/v1/api/talk/profile': ['GET'],
  '/v1/api/talk/friends': ['GET'],
  '/v1/api/talk/friends/message/send': ['POST'],
  '/v1/api/talk/friends/message/default/send': ['POST'],
  '/v1/api/talk/friends/message/scrap/send': ['POST'],
  '/v2/api/talk/memo/send': ['POST'],
  '/v2/api/talk/memo/default/send': ['POST'],
  '/v2/api/talk/memo/scrap/send': ['POST'],
  '/v2/api/talk/channels': ['GET'],
  '/v1/api/story/profile': ['GET'],
  '/v1/api/story/isstoryuser': ['GET'],
  '/v1/api/story/mystory': ['GET'],
  '/v1/api/story/mystories': ['GET'],
  '/v1/api/story/linkinfo': ['GET'],
  '/v1/api/story/post/note': ['POST'],
  '/v1/api/story/post/photo': ['POST'],
  '/v1/api/story/post/link': ['POST'],
  '/v1/api/story/upload/multi': ['POST'],
  '/v1/api/story/delete/mystory': ['DELETE'],
  '/v2/api/kakaolink/talk/template/validate': ['GET', 'appKey'],
  '/v2/api/kakaolink/talk/template/default': ['GET', 'appKey'],
  '/v2/api/kakaolink/talk/template/scrap': ['GET', 'appKey'],
  '/v2/api/talk/message/image/upload': ['POST', 'appKey'],
  '/v2/api/talk/message/image/scrap': ['POST', 'appKey'],
  '/v2/api/talk/message/image/delete': ['DELETE', 'appKey'],
};

/** The Authorization header for an API: the app key, or the access token (the app key when there is none yet). */
export function authorizationFor(credential: Credential, caller: string): string {
  const key = appKey(caller);
  if (credential === 'appKey' || !runtime.accessToken) return `KakaoAK ${key}`;
  return `Bearer ${runtime.accessToken}`;
}

const isFiles = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as ArrayLike<unknown>).length === 'number';

export function request(settings: unknown): Promise<any> {
  const s = checkSettings(
    settings,
    {
      required: { url: isString },
      optional: { data: isObject, files: isFiles, success: isFunction, fail: isFunction, always: isFunction },
    },
    'API.request',
  );
  const url = s.url as string;
  const api = APIS[url];
  if (!api) throw new KakaoError(`API.request: ${url} is not an API this SDK can call (see docs/browser-sdk.md for the list).`);
  const [method, credential = 'token'] = api;
  const data = { ...((s.data as Record<string, unknown>) ?? {}) };
  let files = s.files as ArrayLike<Blob> | undefined;
  if (!files && isFiles(data.file)) {
    files = data.file as ArrayLike<Blob>;
    delete data.file;
  }
  const promise = send({ method, path: url, authorization: authorizationFor(credential, 'API.request'), data, files });
  const success = s.success as ((r: unknown) => void) | undefined;
  const fail = s.fail as ((r: unknown) => void) | undefined;
  const always = s.always as ((r: unknown) => void) | undefined;
  promise.then(
    (res) => {
      success?.(res);
      always?.(res);
    },
    (err) => {
      fail?.(err);
      always?.(err);
    },
  );
  return promise;
}

export const API = { request };
