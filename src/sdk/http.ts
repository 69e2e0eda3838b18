import { KAPIBARA_ORIGIN, kakaoAgent, queryString } from './common.js';

/**
 * One kapi call from the browser, with the promise semantics of Kakao's SDK v2: resolves
 * with the parsed body when the status is exactly 200, rejects with the parsed error body
 * (`{code, msg}` from kapi, `{error, error_description}` from kauth) otherwise.
 */

export type Method = 'GET' | 'POST' | 'DELETE';

export interface HttpRequest {
  method: Method;
  path: string;
  authorization?: string;
  data?: Record<string, unknown>;
  /** Sent as multipart/form-data, one `file` part per file, with `data` as fields. */
  files?: ArrayLike<Blob>;
}

/** What a failed call rejects with when the server gave no JSON body (network error, CORS). */
export function transportError(status: number): Record<string, unknown> {
  return { code: -777, msg: status ? `unexpected answer from Kapibara (HTTP ${status})` : 'network error: Kapibara could not be reached' };
}

export function send(req: HttpRequest): Promise<any> {
  const xhr = new XMLHttpRequest();
  const data = req.data ?? {};
  let url = `${KAPIBARA_ORIGIN}${req.path}`;
  let body: Document | XMLHttpRequestBodyInit | null = null;
  const inQuery = req.method !== 'POST';
  if (inQuery) {
    const qs = queryString(data);
    if (qs) url += `${url.includes('?') ? '&' : '?'}${qs}`;
  }
  xhr.open(req.method, url);
  xhr.setRequestHeader('KA', kakaoAgent());
  if (req.authorization) xhr.setRequestHeader('Authorization', req.authorization);
  xhr.setRequestHeader('Cache-Control', 'no-cache, no-store, max-age=0, must-revalidate');
  xhr.setRequestHeader('Pragma', 'no-cache');
  if (!inQuery && req.files) {
    const form = new FormData();
    for (const [key, value] of Object.entries(data)) {
      if (value !== undefined && value !== null) form.append(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
    }
    for (const file of Array.from(req.files)) form.append('file', file);
    body = form;
  } else if (!inQuery) {
    xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded;charset=utf-8');
    body = queryString(data);
  }
  return new Promise((resolve, reject) => {
    xhr.onload = () => {
      let parsed: unknown;
      try {
        parsed = xhr.responseText ? JSON.parse(xhr.responseText) : {};
      } catch {
        parsed = undefined;
      }
      if (xhr.status === 200 && parsed !== undefined) resolve(parsed);
      else reject(parsed && typeof parsed === 'object' ? parsed : transportError(xhr.status));
    };
    xhr.onerror = () => reject(transportError(0));
    xhr.send(body);
  });
}
