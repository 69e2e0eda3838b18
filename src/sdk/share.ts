import {
  KAPIBARA_ORIGIN,
  KakaoError,
  appKey,
  checkSettings,
  cleanups,
  element,
  isArrayOf,
  isBoolean,
  isElementOrSelector,
  isFunction,
  isNumber,
  isObject,
  isString,
  kakaoAgent,
} from './common.js';
import { authorizationFor } from './api.js';
import { popupFeatures } from './auth.js';
import { send } from './http.js';

/**
 * `Kakao.Share` (and the older `Kakao.Link` names): the web sharer opened as Kakao's SDK v2
 * does on a desktop (a popup named `sharer` and a hidden form POSTed into it, to
 * `/picker/link`), and the image upload, scrap and delete calls. Templates are written
 * with the field names of either SDK generation and sent as snake_case `template_object`s.
 */

const LINK_VER = '4.0';
const SHARER_WINDOW = 'sharer';

/** SDK v1's names for fields SDK v2 renamed. */
const ALIASES: Record<string, string> = {
  androidExecParams: 'android_execution_params',
  iosExecParams: 'ios_execution_params',
};

/** Settings of the call itself, never part of the template. */
const CALL_KEYS = ['container', 'callback', 'success', 'fail', 'always', 'serverCallbackArgs', 'installTalk', 'throughTalk', 'extras', 'shareType', 'limit'];

function snake(key: string): string {
  return ALIASES[key] ?? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Execution params may be given as an object; the platform takes a query string. */
function execParams(value: unknown): unknown {
  if (!isObject(value)) return value;
  return Object.entries(value)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
}

/** camelCase template settings (v1 or v2 names) → the platform's snake_case template object. */
export function templateObject(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(templateObject);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const name = snake(key);
    out[name] = name.endsWith('_execution_params') ? execParams(v) : templateObject(v);
  }
  return out;
}

function withoutCallKeys(settings: Record<string, unknown>): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) if (!CALL_KEYS.includes(k)) rest[k] = v;
  return rest;
}

const common = {
  callback: isFunction,
  success: isFunction,
  fail: isFunction,
  always: isFunction,
  // An object, or its JSON text (the sharer refuses anything else, after the popup opened).
  serverCallbackArgs: (v: unknown) => isObject(v) || (isString(v) && isJsonObjectText(v)),
  installTalk: isBoolean,
  throughTalk: isBoolean,
  extras: isObject,
  shareType: isString,
  limit: isNumber,
};
const withContainer = { container: isElementOrSelector };
const OBJECT_TYPES = ['feed', 'list', 'location', 'commerce', 'text', 'calendar'];

type Action = 'default' | 'custom' | 'scrap';

function defaultParams(s: Record<string, unknown>) {
  if (!OBJECT_TYPES.includes(s.objectType as string)) {
    throw new KakaoError(`Share.sendDefault: objectType must be one of ${OBJECT_TYPES.join(', ')}.`);
  }
  return { link_ver: LINK_VER, template_object: templateObject(withoutCallKeys(s)) };
}

function customParams(s: Record<string, unknown>) {
  return { link_ver: LINK_VER, template_id: s.templateId, ...(s.templateArgs ? { template_args: s.templateArgs } : {}) };
}

function scrapParams(s: Record<string, unknown>) {
  return {
    link_ver: LINK_VER,
    request_url: s.requestUrl,
    ...(s.templateId !== undefined ? { template_id: s.templateId } : {}),
    ...(s.templateArgs ? { template_args: s.templateArgs } : {}),
  };
}

const SPECS = {
  default: { optional: { objectType: isString, ...common } },
  custom: { required: { templateId: isNumber }, optional: { templateArgs: isObject, ...common } },
  scrap: { required: { requestUrl: isString }, optional: { templateId: isNumber, templateArgs: isObject, ...common } },
};

/** Default templates carry their own fields: only the call's settings are checked here, the template by the sharer. */
function check(action: Action, settings: unknown, caller: string, container: boolean): Record<string, unknown> {
  if (!isObject(settings)) throw new KakaoError(`${caller}: settings must be an object.`);
  const spec = SPECS[action];
  const optional = { ...spec.optional, ...(container ? withContainer : {}) };
  if (action === 'default') {
    if (container && settings.container === undefined) throw new KakaoError(`${caller}: container is required.`);
    for (const [k, test] of Object.entries(optional)) {
      if (settings[k] !== undefined && !test(settings[k])) throw new KakaoError(`${caller}: illegal value for ${k}.`);
    }
    return settings;
  }
  const required = { ...('required' in spec ? spec.required : {}), ...(container ? withContainer : {}) };
  return checkSettings(settings, { required, optional }, caller);
}

/** Opens the sharer popup and POSTs the share into it; `callback` fires when the sharer reports `sent`. */
function openSharer(action: Action, s: Record<string, unknown>, params: Record<string, unknown>, caller: string): void {
  const key = appKey(caller);
  const popup = window.open('', SHARER_WINDOW, popupFeatures(460, 608));
  if (!popup) throw new KakaoError(`${caller}: the browser blocked the sharer popup; call it from a click handler.`);
  const form = document.createElement('form');
  form.method = 'post';
  form.action = `${KAPIBARA_ORIGIN}/picker/link`;
  form.target = SHARER_WINDOW;
  form.acceptCharset = 'utf-8';
  form.style.display = 'none';
  const fields: Record<string, string> = { app_key: key, ka: kakaoAgent(), validation_action: action, validation_params: JSON.stringify(params) };
  if (s.serverCallbackArgs !== undefined) {
    fields.lcba = isString(s.serverCallbackArgs) ? s.serverCallbackArgs : JSON.stringify(s.serverCallbackArgs);
  }
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
  form.remove();
  // A new share in the sharer window replaces the one it showed: that one can no longer be sent.
  stopListening?.();
  stopListening = isFunction(s.callback) ? listenForSent(popup, s.callback) : undefined;
}

/** Stops listening for the share the sharer window shows now, if any. */
let stopListening: (() => void) | undefined;

/**
 * Runs `callback` once, when this share's popup reports `sent`. Kakao's SDK v1 listens for
 * any `sent` until a once-a-second check sees its popup closed, so a share sent within that
 * second ran the earlier share's callback as well; this listens for the one message.
 */
function listenForSent(popup: Window, callback: (...args: any[]) => unknown): () => void {
  const onMessage = (e: MessageEvent) => {
    if (e.origin !== KAPIBARA_ORIGIN || e.data !== 'sent' || e.source !== popup) return;
    stop();
    callback();
  };
  window.addEventListener('message', onMessage);
  const watch = setInterval(() => {
    if (popup.closed) stop();
  }, 1000);
  const stop = () => {
    clearInterval(watch);
    window.removeEventListener('message', onMessage);
    if (stopListening === stop) stopListening = undefined;
  };
  cleanups.push(stop);
  return stop;
}

function sender(action: Action, build: (s: Record<string, unknown>) => Record<string, unknown>, caller: string) {
  return (settings: unknown): void => {
    const s = check(action, settings, caller, false);
    openSharer(action, s, build(s), caller);
  };
}

function buttonMaker(action: Action, build: (s: Record<string, unknown>) => Record<string, unknown>, caller: string) {
  return (settings: unknown): void => {
    const s = check(action, settings, caller, true);
    const target = element(s.container, caller);
    const params = build(s);
    const onClick = () => openSharer(action, s, params, caller);
    target.addEventListener('click', onClick);
    cleanups.push(() => target.removeEventListener('click', onClick));
  };
}

function files(settings: unknown, caller: string): ArrayLike<Blob> {
  const s = checkSettings(settings, { required: { file: isArrayOf }, optional: { secureResource: isBoolean } }, caller);
  const list = s.file as ArrayLike<Blob>;
  if (list.length === 0) throw new KakaoError(`${caller}: file is empty; pick at least one image.`);
  return list;
}

function imageUrl(settings: unknown, caller: string): string {
  const s = checkSettings(settings, { required: { imageUrl: isString }, optional: { secureResource: isBoolean } }, caller);
  return s.imageUrl as string;
}

export function uploadImage(settings: unknown): Promise<any> {
  const list = files(settings, 'Share.uploadImage');
  return send({
    method: 'POST',
    path: '/v2/api/talk/message/image/upload',
    authorization: authorizationFor('appKey', 'Share.uploadImage'),
    data: { secure_resource: true },
    files: list,
  });
}

export function scrapImage(settings: unknown): Promise<any> {
  const url = imageUrl(settings, 'Share.scrapImage');
  return send({
    method: 'POST',
    path: '/v2/api/talk/message/image/scrap',
    authorization: authorizationFor('appKey', 'Share.scrapImage'),
    data: { image_url: url, secure_resource: true },
  });
}

export function deleteImage(settings: unknown): Promise<any> {
  const url = imageUrl(settings, 'Share.deleteImage');
  return send({ method: 'DELETE', path: '/v2/api/talk/message/image/delete', authorization: authorizationFor('appKey', 'Share.deleteImage'), data: { image_url: url } });
}

function share(ns: string) {
  return {
    sendDefault: sender('default', defaultParams, `${ns}.sendDefault`),
    createDefaultButton: buttonMaker('default', defaultParams, `${ns}.createDefaultButton`),
    sendCustom: sender('custom', customParams, `${ns}.sendCustom`),
    createCustomButton: buttonMaker('custom', customParams, `${ns}.createCustomButton`),
    sendScrap: sender('scrap', scrapParams, `${ns}.sendScrap`),
    createScrapButton: buttonMaker('scrap', scrapParams, `${ns}.createScrapButton`),
    uploadImage,
    scrapImage,
    deleteImage,
  };
}

export const Share = share('Share');
export const Link = share('Link');

function isJsonObjectText(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
