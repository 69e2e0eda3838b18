import type { FastifyInstance } from 'fastify';
import { NUL_REFUSED } from './http.js';

/**
 * JSON nesting is bounded where JSON enters: request bodies and JSON inside form fields.
 * V8 parses any depth, but everything after the parse (schema checks, `JSON.stringify`,
 * the code walking a template) recurses, and tens of thousands of levels overflow the
 * stack. No Kakao document comes near this depth (a message template is about 6 levels,
 * a state export 5).
 */
export const MAX_JSON_DEPTH = 64;

export const JSON_TOO_DEEP = `JSON nested deeper than ${MAX_JSON_DEPTH} levels`;

/**
 * Whether `text` nests arrays and objects deeper than `max`. One pass over the text that
 * skips string contents; shorter texts cannot nest that deep and are not scanned.
 */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  if (text.length <= 2 * max || !hasMoreOpenings(text, max)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Whether `text` has more than `max` `{` and `[` in all (strings included): text with no
 * more cannot nest deeper. indexOf skips from one to the next far faster than the scan
 * above reads every character (a message template, ~500 characters, has about eight).
 */
function hasMoreOpenings(text: string, max: number): boolean {
  let count = 0;
  for (const c of ['{', '[']) {
    for (let i = text.indexOf(c); i >= 0; i = text.indexOf(c, i + 1)) if (++count > max) return true;
  }
  return false;
}

/** A 400 the one error handler answers in the route's surface shape (-2, invalid_request, {error}). */
function tooDeepError(): Error & { statusCode: number; code: string } {
  return Object.assign(new Error(`invalid body: ${JSON_TOO_DEEP}`), { statusCode: 400, code: 'KAPIBARA_JSON_TOO_DEEP' });
}

/**
 * `application/json` bodies: Fastify's own parser (prototype poisoning refused), after a
 * depth check. An empty body is a request without fields, as an empty form is (a client
 * that sets the JSON type on every POST sends one for a logout).
 */
export function installJsonParsing(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // Fastify reads text/plain bodies as a string no route reads: refused instead, naming the
  // type, as XML or multipart are (kapi takes forms, the control plane JSON).
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    // JSON writes a NUL only escaped; no text may hold one (core/http.ts).
    if ((body as string).includes('\\u0000')) return done(Object.assign(new Error(NUL_REFUSED), { statusCode: 400 }), undefined);
    if (jsonTooDeep(body as string)) return done(tooDeepError(), undefined);
    return parse(req, body as string, done);
  });
}
