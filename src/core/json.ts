import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { LONE_SURROGATE_TEXT, NUL_TEXT } from './http.js';

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

/**
 * What JSON `text` would give that no store keeps as sent: a NUL (PostgreSQL refuses it) or
 * half of a surrogate pair (each store keeps a different U+FFFD). JSON holds either only as
 * an escape (a raw NUL is not JSON, and text decoded from UTF-8 has no lone surrogate), so
 * only `\u` escapes are read, and text without one is not scanned. Undefined when neither.
 */
export function unstorableJsonText(text: string): string | undefined {
  if (!text.includes('\\u')) return undefined;
  // Every escape from the first backslash on: `\\` is one (so `\\u0000` is plain text).
  const escapes = /\\(?:u([0-9a-fA-F]{4})|[^u])/g;
  escapes.lastIndex = text.indexOf('\\');
  let highEnd = -1; // where the escape of a high surrogate ended, while one waits for its pair
  for (let m = escapes.exec(text); m; m = escapes.exec(text)) {
    const code = m[1] === undefined ? -1 : parseInt(m[1], 16);
    const low = code >= 0xdc00 && code <= 0xdfff;
    if (highEnd >= 0) {
      if (m.index !== highEnd || !low) return LONE_SURROGATE_TEXT;
      highEnd = -1;
    } else if (code === 0) return NUL_TEXT;
    else if (low) return LONE_SURROGATE_TEXT;
    else if (code >= 0xd800 && code <= 0xdbff) highEnd = m.index + m[0].length;
  }
  return highEnd >= 0 ? LONE_SURROGATE_TEXT : undefined;
}

/**
 * What is wrong with JSON `text` from a request before it is parsed (too deep, or text no
 * store keeps as sent), as a phrase for the caller's own error; undefined when nothing.
 */
export function jsonTextProblem(text: string): string | undefined {
  return jsonTooDeep(text) ? JSON_TOO_DEEP : unstorableJsonText(text);
}

/** A 400 the one error handler answers in the route's surface shape (-2, invalid_request, {error}). */
function tooDeepError(): Error & { statusCode: number; code: string } {
  return Object.assign(new Error(`invalid body: ${JSON_TOO_DEEP}`), { statusCode: 400, code: 'KAPIBARA_JSON_TOO_DEEP' });
}

/**
 * `application/json` bodies, where a route takes them: the control plane, and the kapi
 * routes that declare a JSON body (`jsonBody`, core/route.ts: Kakao's customer-file APIs).
 * Every other kapi and kauth route takes form fields only, as the platform does (wire facts
 * §1.2; seed 000 sends `application/x-www-form-urlencoded;charset=utf-8`): a JSON body there
 * is not read, as a server reading form fields does not read it. A call that needs no
 * parameter works (axios posts `{}` to a logout), one that needs them is answered as having
 * none, the platform's answer, and its error says the body was not read (core/http.ts).
 * Reading the body as a form would let a client that posts JSON (axios's default for an
 * object) work here and fail against Kakao. The pages a browser posts forms to refuse a JSON
 * body, naming its type, as XML or text. Fastify's own parser (prototype poisoning refused)
 * runs after a depth check. An empty body is a request without fields, as an empty form is.
 */
export function installJsonParsing(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // Fastify reads text/plain bodies as a string no route reads: refused instead, naming the
  // type, as XML or multipart are.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    const use = jsonBodyUse(req);
    if (use === 'unread') {
      unreadJson.add(req);
      return done(null, undefined);
    }
    if (use === 'ignored') return done(null, undefined);
    if (use === 'refused') return done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(String(req.headers['content-type']).split(';')[0].trim()), undefined);
    // No text may hold a NUL or a lone surrogate (core/http.ts).
    const unstorable = unstorableJsonText(body as string);
    if (unstorable) return done(Object.assign(new Error(`invalid request: ${unstorable}.`), { statusCode: 400 }), undefined);
    if (jsonTooDeep(body as string)) return done(tooDeepError(), undefined);
    return parse(req, body as string, done);
  });
}

/**
 * What becomes of a JSON body, by the route the request reached: read (the control plane, a
 * route declaring `jsonBody`, a route of no surface); left unread, and said so on a parameter
 * error (the other kapi and kauth routes); refused by its type (pages); ignored (a path no
 * route serves, which is a 404 whatever its body).
 */
function jsonBodyUse(req: FastifyRequest): 'read' | 'unread' | 'refused' | 'ignored' {
  if (req.routeOptions.url === undefined) return 'ignored';
  const { surface, declaration } = req.routeOptions.config;
  if (surface === undefined || surface === 'control' || declaration?.jsonBody === true) return 'read';
  return surface === 'kapi' || surface === 'kauth' ? 'unread' : 'refused';
}

const unreadJson = new WeakSet<FastifyRequest>();

/** Whether the request sent a JSON body its route did not read (a kapi or kauth form route). */
export function sentUnreadJson(req: FastifyRequest): boolean {
  return unreadJson.has(req);
}

/** Said after a parameter error of a request whose JSON body was not read. */
export const UNREAD_JSON_HINT = 'this API reads form fields (Content-Type: application/x-www-form-urlencoded), not a JSON body';
