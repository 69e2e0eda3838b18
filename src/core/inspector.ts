import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../db/index.js';
import { registryKey } from '../db/registry.js';
import { type Surface, type SurfacePrefix, surfaceForPath } from './http.js';

/**
 * The request inspector: every call an app makes to the emulated Kakao hosts (kauth, kapi,
 * dapi and the pages a browser opens there, sharer included) is recorded with who made it
 * and how it ended, so a test can ask "did my app call /v2/user/me once, with the right
 * scopes?" and a person can watch calls arrive in the console.
 *
 * Retention is bounded: a ring buffer of the last `capacity` records per store (default
 * 1000), in memory only (no table, so no rows ever accumulate). Reset and state import
 * empty it with the store's other caches. Tokens, secrets and codes are never recorded:
 * query and body values of sensitive fields are replaced by "[redacted]", the
 * Authorization header by its scheme, and bodies are left out unless asked for.
 */

export const DEFAULT_INSPECTOR_CAPACITY = 1000;

export interface InspectorOptions {
  /** How many records to keep (the oldest go first). 0 records nothing. */
  capacity?: number;
  /** Also record request bodies (sensitive fields still redacted). */
  bodies?: boolean;
}

/** Who made a call, as the route declaration resolved it (core/route.ts). */
export interface CallIdentity {
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
  /** The credential's scheme (`Bearer`, `KakaoAK`, `Basic`), never its value. */
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

/** The records of one store: a fixed-size ring, oldest overwritten first. */
export class RequestLog {
  private readonly ring: (RequestRecord | undefined)[];
  private next = 0;
  private nextId = 1;

  constructor(readonly capacity: number = DEFAULT_INSPECTOR_CAPACITY) {
    this.ring = new Array(Math.max(0, capacity));
  }

  /** How many calls were recorded since the last clear, kept or not. */
  get recorded(): number {
    return this.nextId - 1;
  }

  /** How many records are held now (never more than `capacity`). */
  get size(): number {
    return Math.min(this.recorded, this.capacity);
  }

  add(record: Omit<RequestRecord, 'id'>): void {
    if (this.capacity === 0) {
      this.nextId++;
      return;
    }
    (record as RequestRecord).id = this.nextId++;
    this.ring[this.next] = record as RequestRecord;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Held records, oldest first. */
  all(): RequestRecord[] {
    const out: RequestRecord[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const r = this.ring[(this.next + i) % this.capacity];
      if (r) out.push(r);
    }
    return out;
  }

  list(filter: RequestFilter = {}): RequestRecord[] {
    return filterRecords(this.all(), filter);
  }

  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
    this.nextId = 1;
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

const capacities = new WeakMap<Store, number>();
const REQUEST_LOG = registryKey('request inspector', (store: Store) => new RequestLog(capacities.get(store) ?? DEFAULT_INSPECTOR_CAPACITY));

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the route declaration once it knows the caller (core/route.ts). */
    kapibaraCall: CallIdentity | null;
    /** The Kakao error code of the answer sent, if it was an error. */
    kakaoErrorCode: number | string | null;
  }
}

/**
 * Paths under this prefix are Kapibara's own (control plane, console), and browsers ask for
 * a favicon by themselves on every page they open: neither is an app's call, neither is
 * recorded.
 */
const OWN_PREFIX = '/_kapibara/';
const FAVICON = '/favicon.ico';

/** Records every call to an emulated Kakao host when its answer has been sent. */
export function installInspector(app: FastifyInstance, store: Store, prefixes: readonly SurfacePrefix[], options: InspectorOptions = {}): void {
  capacities.set(store, options.capacity ?? DEFAULT_INSPECTOR_CAPACITY);
  const withBodies = options.bodies === true;
  app.decorateRequest('kapibaraCall', null);
  app.decorateRequest('kakaoErrorCode', null);

  // Error answers only: their Kakao code, read from the bytes actually sent.
  app.addHook('onSend', (req, reply, payload, done) => {
    if (reply.statusCode >= 400 && typeof payload === 'string' && payload.charCodeAt(0) === 123 /* { */) {
      req.kakaoErrorCode = errorCodeOf(payload);
    }
    done(null, payload);
  });

  app.addHook('onResponse', (req, reply, done) => {
    const url = req.url;
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    if (!path.startsWith(OWN_PREFIX) && path !== FAVICON) record(req, reply, path);
    done();
  });

  function record(req: FastifyRequest, reply: FastifyReply, path: string): void {
    const platform = req.server.platform;
    const log = requestLog(platform.store);
    if (log.capacity === 0) return;
    const who = req.kapibaraCall;
    const authorization = req.headers.authorization;
    const space = authorization ? authorization.indexOf(' ') : -1;
    // A plain literal, no spread (docs/design.md, per-request code).
    const record: Omit<RequestRecord, 'id'> = {
      time: new Date(platform.clock.now()).toISOString(),
      method: req.method,
      path,
      query: redact(req.query),
      surface: req.routeOptions.config?.surface ?? surfaceForPath(prefixes, path),
      app_id: who?.appId ?? null,
      account_id: who?.accountId ?? null,
      user_id: who?.userId ?? null,
      api_type: who?.apiType ?? null,
      scopes: who?.scopes ?? null,
      auth: authorization ? (space < 0 ? authorization : authorization.slice(0, space)) : null,
      client_id: who?.appId ? null : clientIdOf(req),
      status: reply.statusCode,
      error_code: req.kakaoErrorCode,
      duration_ms: Math.round(reply.elapsedTime * 1000) / 1000,
    };
    if (withBodies && req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) record.body = redact(req.body);
    log.add(record);
  }
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
