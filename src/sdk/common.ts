/**
 * What every part of Kapibara's browser SDK shares: the Kapibara origin the script was
 * loaded from (every call goes there, so no host mapping is needed), the app key given to
 * `Kakao.init`, the access token, the KA header, and argument checks that throw
 * `KakaoError` as Kakao's SDK does.
 */

declare const __KAPIBARA_VERSION__: string;

/** The Kakao SDK generation this one implements (v2's surface, with v1's `Link` names), and Kapibara's version. */
export const VERSION = `2.7.4-kapibara.${__KAPIBARA_VERSION__}`;

export class KakaoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KakaoError';
  }
}

/** The origin of the `<script src>` that loaded this SDK: kauth, kapi and sharer all live there. */
function scriptOrigin(): string {
  const current = document.currentScript as HTMLScriptElement | null;
  const candidates = current?.src ? [current.src] : [];
  for (const s of Array.from(document.getElementsByTagName('script'))) {
    if (/\/sdk\/js\/kakao(\.min)?\.js(\?|#|$)/.test(s.src)) candidates.push(s.src);
  }
  for (const src of candidates) {
    try {
      return new URL(src, location.href).origin;
    } catch {
      // not a URL: try the next one
    }
  }
  throw new KakaoError('Kapibara SDK: cannot tell which Kapibara served this script; load it with <script src="https://<kapibara>/sdk/js/kakao.js">.');
}

export const KAPIBARA_ORIGIN = scriptOrigin();

interface Runtime {
  appKey?: string;
  accessToken?: string;
}

export const runtime: Runtime = {};

/** Functions run by `Kakao.cleanup()`: listeners, pollers and buttons this SDK added. */
export const cleanups: Array<() => void> = [];

export function appKey(caller: string): string {
  if (!runtime.appKey) throw new KakaoError(`${caller}: Kakao.init(appKey) must be called first.`);
  return runtime.appKey;
}

/** The KA header: SDK, OS, language, device and the page's origin (checked against the app's web domains). */
export function kakaoAgent(): string {
  const platform = (navigator.platform || 'unknown').replace(/ /g, '_');
  return [`sdk/${VERSION}`, 'os/javascript', 'sdk_type/javascript', `lang/${navigator.language}`, `device/${platform}`, `origin/${encodeURIComponent(location.origin)}`].join(' ');
}

export type Settings = Record<string, unknown>;

/** Checks a settings object: required and optional keys with their tests, nothing else. */
export function checkSettings(
  settings: unknown,
  spec: { required?: Record<string, (v: unknown) => boolean>; optional?: Record<string, (v: unknown) => boolean> },
  caller: string,
): Settings {
  if (!isObject(settings)) throw new KakaoError(`${caller}: settings must be an object.`);
  const required = spec.required ?? {};
  const optional = spec.optional ?? {};
  for (const [key, test] of Object.entries(required)) {
    if (settings[key] === undefined) throw new KakaoError(`${caller}: ${key} is required.`);
    if (!test(settings[key])) throw new KakaoError(`${caller}: illegal value for ${key}.`);
  }
  for (const [key, value] of Object.entries(settings)) {
    if (key in required) continue;
    const test = optional[key];
    if (!test) throw new KakaoError(`${caller}: unknown parameter ${key}.`);
    if (value !== undefined && !test(value)) throw new KakaoError(`${caller}: illegal value for ${key}.`);
  }
  return settings;
}

export const isString = (v: unknown): v is string => typeof v === 'string';
export const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
export const isFunction = (v: unknown): v is (...args: any[]) => unknown => typeof v === 'function';
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
/** A FileList or an array of Files. */
export const isArrayOf = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as ArrayLike<unknown>).length === 'number';
export const isElementOrSelector = (v: unknown): boolean => typeof v === 'string' || v instanceof Element;

/** `{a: 1, b: {c: 2}}` → `a=1&b={"c":2}`: objects and arrays as JSON, as Kakao's APIs expect. */
export function queryString(data: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined || value === null) continue;
    params.append(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return params.toString();
}

export function randomString(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export function element(container: unknown, caller: string): Element {
  const found = typeof container === 'string' ? document.querySelector(container) : container;
  if (!(found instanceof Element)) throw new KakaoError(`${caller}: container ${String(container)} is not an element on this page.`);
  return found;
}
