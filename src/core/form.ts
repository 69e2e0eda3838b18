import { unescape } from 'node:querystring';
import { NUL_REFUSED } from './http.js';

/**
 * Fields one form may have (Node's querystring stops at the same number): no Kakao request
 * comes near it, and a 12 MB body of a million fields held the event loop for seconds.
 */
export const MAX_FORM_FIELDS = 1000;
const TOO_MANY_FIELDS = `invalid request: a form may have at most ${MAX_FORM_FIELDS} fields (this one has more than ${MAX_FORM_FIELDS} fields).`;

/**
 * `application/x-www-form-urlencoded` bodies (every kapi POST): fields by name, a repeated
 * name giving an array in order. Values are decoded by the engine's own
 * `decodeURIComponent`; malformed escapes (`%zz`, a lone `%`) are kept literally, as
 * browsers and Node's `querystring` do, instead of failing the request. Message sends
 * carry a whole percent-encoded JSON template, where this costs a fifth of what
 * fast-querystring's byte-by-byte decoder does.
 */
export function parseForm(body: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = Object.create(null);
  const length = body.length;
  let start = 0;
  let count = 0;
  while (start < length) {
    let end = body.indexOf('&', start);
    if (end < 0) end = length;
    if (end > start) {
      if (++count > MAX_FORM_FIELDS) throw Object.assign(new Error(TOO_MANY_FIELDS), { statusCode: 400 });
      let eq = body.indexOf('=', start);
      if (eq < 0 || eq > end) eq = end;
      const name = decodePart(body.slice(start, eq));
      const value = eq < end ? decodePart(body.slice(eq + 1, end)) : '';
      const previous = fields[name];
      if (previous === undefined) fields[name] = value;
      else if (Array.isArray(previous)) previous.push(value);
      else fields[name] = [previous, value];
    }
    start = end + 1;
  }
  return fields;
}

function decodePart(part: string): string {
  const text = part.includes('+') ? part.replaceAll('+', ' ') : part;
  if (!text.includes('%')) return text;
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    decoded = unescape(text);
  }
  // Only an escape writes a NUL into a field; no text may hold one (core/http.ts). Looked
  // for in what was decoded: a search for '%00' in a percent-encoded body stops at every '%'.
  if (decoded.includes('\u0000')) throw Object.assign(new Error(NUL_REFUSED), { statusCode: 400 });
  return decoded;
}
