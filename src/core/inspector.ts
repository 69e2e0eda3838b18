import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../db/index.js';
import { registryKey } from '../db/registry.js';
import { type Surface, type SurfacePrefix, surfaceForPath } from './http.js';
import type { RequestPhases } from './phases.js';
import { routedPath } from './security.js';

/**
 * The request inspector: every call an app makes to the emulated Kakao hosts (kauth, kapi,
 * dapi and the pages a browser opens there, sharer included) is recorded with who made it
 * and how it ended, so a test can ask "did my app call /v2/user/me once, with the right
 * scopes?" and a person can watch calls arrive in the console.
 *
 * Retention is bounded: a ring buffer of the last `capacity` records per store (default
 * 1000), in memory only (no table, so no rows ever accumulate). Reset and state import
 * empty it with the store's other caches; record ids go on increasing for as long as the
 * process runs. Tokens, secrets and codes are never recorded: query and body values of
 * sensitive fields are replaced by "[redacted]", the Authorization header by its scheme,
 * and bodies are left out unless asked for.
 */

export const DEFAULT_INSPECTOR_CAPACITY = 1000;

export interface InspectorOptions {
  /** How many records to keep (the oldest go first). 0 records nothing. */
  capacity?: number;
  /** Also record request bodies (sensitive fields still redacted). */
  bodies?: boolean;
}

/** Who made a call, as the route declaration resolved it (core/route.ts), and on which surface. */
export interface CallIdentity {
  /** The route's surface (read here rather than from Fastify's routeOptions, built anew at each read). */
  surface: Surface;
  appId: number | null;
  accountId: number | null;
  userId: number | null;
  /** The scopes the person had agreed to when the call was made. */
  scopes: string[] | null;
  apiType: string | null;
}

export interface RequestRecord {
  id: number;
  /** ISO time on the platform clock. */
  time: string;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  surface: Surface;
  app_id: number | null;
  account_id: number | null;
  user_id: number | null;
  api_type: string | null;
  scopes: string[] | null;
  /**
   * The credential's scheme (`Bearer`, `KakaoAK`, `Basic`, however the client spelled its
   * case), `(unrecognised)` for any other Authorization header, never its value.
   */
  auth: string | null;
  /** The `client_id` a kauth call named (its app is filled in when the log is read). */
  client_id: string | null;
  status: number;
  /** The Kakao error code of an error answer: kapi/dapi `code`, kauth `error_code`. */
  error_code: number | string | null;
  duration_ms: number;
  body?: unknown;
}

export interface RequestFilter {
  app?: number;
  /** An exact path, or a prefix ending in `*`. */
  path?: string;
  /** An exact status, or a class such as `4xx`. */
  status?: string;
  method?: string;
  account?: number;
  /** Only records newer than this id (live views poll with the last id seen). */
  after?: number;
  limit?: number;
}

const REDACTED = '[redacted]';
const SENSITIVE = /token|secret|password|code|verifier|assertion|key|nonce|agt/i;

function redact(values: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!values || typeof values !== 'object') return out;
  for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
    if (SENSITIVE.test(k)) out[k] = REDACTED;
    else if (Array.isArray(v)) out[k] = v.map(String);
    else if (v !== undefined) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/**
 * A call as the hook hands it to the log: a record before formatting. Its time is a number
 * and its query Fastify's own parsed object (null when the URL has none), redacted when read.
 */
export type Call = Omit<RequestRecord, 'id' | 'time' | 'query'> & { at: number; query: object | null };

// The ring's columns: numbers in one typed array (NaN for null), references in one array.
const ID = 0, AT = 1, STATUS = 2, DURATION = 3, APP = 4, ACCOUNT = 5, USER = 6, NUMBERS = 7;
const METHOD = 0, PATH = 1, QUERY = 2, SURFACE = 3, API_TYPE = 4, SCOPES = 5, AUTH = 6, CLIENT_ID = 7, ERROR_CODE = 8, BODY = 9, REFS = 10;

const orNull = (n: number) => (Number.isNaN(n) ? null : n);

/**
 * The records of one store: a fixed-size ring, oldest overwritten first. Calls are held in
 * columns and become records when read: a record object per call, kept for the next
 * thousand calls, outlived the young generation and made the collector copy and promote
 * it; that cost every request about a tenth of its CPU time (docs/benchmarks.md).
 */
export class RequestLog {
  private readonly numbers: Float64Array;
  private readonly refs: unknown[];
  private next = 0;
  private count = 0;

  /**
   * `ids` numbers the records: shared by every log of the store in this process and never
   * started again, so that a clear (DELETE, reset, state import) does not hand out ids a
   * poller's `after=` already passed.
   */
  constructor(
    readonly capacity: number = DEFAULT_INSPECTOR_CAPACITY,
    private readonly ids: RecordIds = { next: 1 },
  ) {
    const slots = Math.max(0, capacity);
    this.numbers = new Float64Array(slots * NUMBERS);
    this.refs = new Array(slots * REFS).fill(null);
  }

  /** How many calls were recorded since the last clear, kept or not. */
  get recorded(): number {
    return this.count;
  }

  /** How many records are held now (never more than `capacity`). */
  get size(): number {
    return Math.min(this.recorded, this.capacity);
  }

  add(call: Call): void {
    const id = this.ids.next++;
    this.count++;
    if (this.capacity === 0) return;
    const n = this.next * NUMBERS;
    const r = this.next * REFS;
    const nums = this.numbers;
    const refs = this.refs;
    nums[n + ID] = id;
    nums[n + AT] = call.at;
    nums[n + STATUS] = call.status;
    nums[n + DURATION] = call.duration_ms;
    nums[n + APP] = call.app_id ?? NaN;
    nums[n + ACCOUNT] = call.account_id ?? NaN;
    nums[n + USER] = call.user_id ?? NaN;
    refs[r + METHOD] = call.method;
    refs[r + PATH] = call.path;
    refs[r + QUERY] = call.query;
    refs[r + SURFACE] = call.surface;
    refs[r + API_TYPE] = call.api_type;
    refs[r + SCOPES] = call.scopes;
    refs[r + AUTH] = call.auth;
    refs[r + CLIENT_ID] = call.client_id;
    refs[r + ERROR_CODE] = call.error_code;
    refs[r + BODY] = call.body;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Held records, oldest first. */
  all(): RequestRecord[] {
    const out: RequestRecord[] = [];
    const held = this.size;
    for (let i = 0; i < held; i++) out.push(this.at((this.next - held + i + this.capacity) % this.capacity));
    return out;
  }

  private at(slot: number): RequestRecord {
    const n = slot * NUMBERS;
    const r = slot * REFS;
    const nums = this.numbers;
    const refs = this.refs;
    const record: RequestRecord = {
      id: nums[n + ID],
      time: new Date(nums[n + AT]).toISOString(),
      method: refs[r + METHOD] as string,
      path: refs[r + PATH] as string,
      query: redact(refs[r + QUERY]),
      surface: refs[r + SURFACE] as Surface,
      app_id: orNull(nums[n + APP]),
      account_id: orNull(nums[n + ACCOUNT]),
      user_id: orNull(nums[n + USER]),
      api_type: refs[r + API_TYPE] as string | null,
      scopes: refs[r + SCOPES] === null ? null : [...(refs[r + SCOPES] as string[])],
      auth: refs[r + AUTH] as string | null,
      client_id: refs[r + CLIENT_ID] as string | null,
      status: nums[n + STATUS],
      error_code: refs[r + ERROR_CODE] as number | string | null,
      duration_ms: nums[n + DURATION],
    };
    if (refs[r + BODY] != null) record.body = refs[r + BODY];
    return record;
  }

  list(filter: RequestFilter = {}): RequestRecord[] {
    return filterRecords(this.all(), filter);
  }

  /** Forgets every record; ids go on from where they were. */
  clear(): void {
    this.refs.fill(null);
    this.next = 0;
    this.count = 0;
  }
}

export function filterRecords(records: RequestRecord[], filter: RequestFilter): RequestRecord[] {
  const status = filter.status;
  const statusClass = status && /^[1-5]xx$/i.test(status) ? Number(status[0]) : undefined;
  const prefix = filter.path?.endsWith('*') ? filter.path.slice(0, -1) : undefined;
  const method = filter.method?.toUpperCase();
  const out = records.filter(
    (r) =>
      (filter.after === undefined || r.id > filter.after) &&
      (filter.app === undefined || r.app_id === filter.app) &&
      (filter.account === undefined || r.account_id === filter.account) &&
      (method === undefined || r.method === method) &&
      (filter.path === undefined || (prefix !== undefined ? r.path.startsWith(prefix) : r.path === filter.path)) &&
      (status === undefined || (statusClass !== undefined ? Math.floor(r.status / 100) === statusClass : String(r.status) === status)),
  );
  return filter.limit !== undefined && out.length > filter.limit ? out.slice(out.length - filter.limit) : out;
}

/** The inspector of a store; its capacity is set by the app that first asks (buildApp). */
export function requestLog(store: Store): RequestLog {
  return store.registry.get(REQUEST_LOG);
}

/** The next record id of a store's inspector. */
export interface RecordIds {
  next: number;
}

const capacities = new WeakMap<Store, number>();
// Durable: reset and import clear the registry (a new, empty log), and the ids go on.
const RECORD_IDS = registryKey('request inspector ids', (): RecordIds => ({ next: 1 }), { durable: true });
const REQUEST_LOG = registryKey('request inspector', (store: Store) => new RequestLog(capacities.get(store) ?? DEFAULT_INSPECTOR_CAPACITY, store.registry.get(RECORD_IDS)));

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the route declaration once it knows the caller (core/route.ts). */
    kapibaraCall: CallIdentity | null;
    /** When the request arrived (performance.now()), for the inspector's duration. */
    kapibaraArrivedAt: number;
  }
}

/**
 * Paths under this prefix are Kapibara's own (control plane, console), and browsers ask for
 * a favicon by themselves on every page they open: neither is an app's call, neither is
 * recorded.
 */
const OWN_PREFIX = '/_kapibara/';
const FAVICON = '/favicon.ico';

/**
 * Judged on the raw path, and on the path the router decoded when the raw one encodes
 * anything: `/%5Fkapibara/v1/apps` is the control plane too.
 */
function isOwn(path: string): boolean {
  return path.startsWith(OWN_PREFIX) || path === FAVICON;
}

/**
 * Records every call to an emulated Kakao host as its answer is handed to the socket (the
 * last step of sending, core/phases.ts): its status and Kakao error code are final then,
 * and its duration runs from its arrival. Recording at `onResponse` instead made Fastify
 * listen for every response's end, a tenth of the CPU of a `/v2/user/me`.
 */
export function installInspector(app: FastifyInstance, phases: RequestPhases, store: Store, prefixes: readonly SurfacePrefix[], options: InspectorOptions = {}): void {
  capacities.set(store, options.capacity ?? DEFAULT_INSPECTOR_CAPACITY);
  const withBodies = options.bodies === true;
  app.decorateRequest('kapibaraCall', null);
  app.decorateRequest('kapibaraArrivedAt', 0);

  phases.onArrival((req) => {
    req.kapibaraArrivedAt = performance.now();
    return false;
  });

  phases.onSending((req, reply, payload) => {
    const url = req.url;
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    if (!isOwn(path) && !(path.includes('%') && isOwn(routedPath(req)))) record(req, reply, payload, path, queryAt >= 0);
  });

  function record(req: FastifyRequest, reply: FastifyReply, payload: unknown, path: string, hasQuery: boolean): void {
    const platform = req.server.platform;
    const log = requestLog(platform.store);
    if (log.capacity === 0) return;
    const who = req.kapibaraCall;
    const authorization = req.headers.authorization;
    const status = reply.statusCode;
    // A plain literal, no spread (docs/design.md, per-request code); the log copies it into
    // its columns. What the log holds is shared where it can be (interned path, constant scheme).
    log.add({
      at: platform.clock.now(),
      method: req.method,
      path: intern(path),
      query: hasQuery ? (req.query as object) : null,
      surface: who?.surface ?? req.routeOptions.config?.surface ?? surfaceForPath(prefixes, path),
      app_id: who?.appId ?? null,
      account_id: who?.accountId ?? null,
      user_id: who?.userId ?? null,
      api_type: who?.apiType ?? null,
      scopes: who?.scopes ?? null,
      auth: authorization ? schemeOf(authorization) : null,
      client_id: who?.appId ? null : clientIdOf(req),
      status,
      // Error answers only: their Kakao code, read from the bytes being sent.
      error_code: status >= 400 && typeof payload === 'string' && payload.charCodeAt(0) === 123 /* { */ ? errorCodeOf(payload) : null,
      duration_ms: Math.round((performance.now() - req.kapibaraArrivedAt) * 1000) / 1000,
      body: withBodies && req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? redact(req.body) : undefined,
    });
  }
}

/** The schemes Kakao's hosts take, by their lower-case spelling (schemes are case-insensitive). */
const SCHEMES = new Map([
  ['bearer', 'Bearer'],
  ['kakaoak', 'KakaoAK'],
  ['basic', 'Basic'],
]);

/** What `auth` holds for an Authorization header that does not start with a known scheme. */
export const UNRECOGNISED_AUTH = '(unrecognised)';

/**
 * An Authorization header's scheme, spelled as Kakao documents it: the word before the first
 * space (the only separator Kapibara, like RFC 7235, reads). Anything else may be the
 * credential itself (a token sent without "Bearer ", a bare base64 client secret, a TAB for
 * the space), so only known names are recorded.
 */
function schemeOf(header: string): string {
  const space = header.indexOf(' ');
  const word = space < 0 ? header : header.slice(0, space);
  if (word === 'Bearer' || word === 'KakaoAK') return word;
  return SCHEMES.get(word.toLowerCase()) ?? UNRECOGNISED_AUTH;
}

/**
 * One copy of each path the log holds, so that a held call keeps no string of
 * its own request alive (most calls repeat a path). Bounded: cleared when full.
 */
const interned = new Map<string, string>();
function intern(text: string): string {
  const known = interned.get(text);
  if (known !== undefined) return known;
  if (interned.size >= 4096) interned.clear();
  interned.set(text, text);
  return text;
}

function clientIdOf(req: FastifyRequest): string | null {
  const fromQuery = (req.query as Record<string, unknown> | undefined)?.client_id;
  if (typeof fromQuery === 'string') return fromQuery;
  const body = req.body;
  const fromBody = body && typeof body === 'object' && !Buffer.isBuffer(body) ? (body as Record<string, unknown>).client_id : undefined;
  return typeof fromBody === 'string' ? fromBody : null;
}

/** Fills in the app of records that only named a `client_id` (kauth calls), once each. */
export async function resolveApps(records: RequestRecord[], appByKey: (key: string) => Promise<number | undefined>): Promise<void> {
  const known = new Map<string, number | undefined>();
  for (const r of records) {
    if (r.app_id !== null || r.client_id === null) continue;
    if (!known.has(r.client_id)) known.set(r.client_id, await appByKey(r.client_id));
    r.app_id = known.get(r.client_id) ?? null;
  }
}

function errorCodeOf(payload: string): number | string | null {
  try {
    const body = JSON.parse(payload) as { code?: unknown; error_code?: unknown; errorType?: unknown };
    if (typeof body.code === 'number') return body.code;
    if (typeof body.error_code === 'string') return body.error_code;
    if (typeof body.errorType === 'string') return body.errorType;
  } catch {
    // Not JSON after all: no code to record.
  }
  return null;
}
