import type { Kysely } from 'kysely';
import type { FastifyRequest } from 'fastify';
import type { DB } from '../db/schema.js';
import type { Dialect, Store } from '../db/index.js';
import type { Clock } from './clock.js';
import type { SigningKeys } from './keys.js';
import type { ScopeCatalog } from './scopes.js';
import type { Directory } from './auth.js';
import type { TableSpec } from '../db/tables.js';
import type { ServedCertificate } from './stored-settings.js';
import type { BackgroundWork } from './background.js';

/**
 * What every operation gets: the store, the clock, the signing keys, the consent items the
 * products define and the directory of callers. Built once by `buildApp` and reachable from
 * a request as `req.server.platform` (operations get it inside their `Call`).
 */
export interface Platform {
  store: Store;
  db: Kysely<DB>;
  dialect: Dialect;
  clock: Clock;
  keys: SigningKeys;
  config: PlatformConfig;
  scopes: ScopeCatalog;
  directory: Directory;
  /** Every table of the state format (export, import, reset), parents first. */
  tables: readonly TableSpec[];
  /** The TLS listeners serving this app (core/tls.ts): an import or another instance may change their certificate. */
  servedCertificates: Set<ServedCertificate>;
  /** Work requests leave running after their answer, stopped and awaited on close. */
  background: BackgroundWork;
}

export interface PlatformConfig {
  /** Fixed public origin (`https://kauth.kakao.com`-style); by default taken from each request. */
  publicUrl?: string;
  /** Required on the control plane when set. */
  operatorToken?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    platform: Platform;
  }
}

/** The origin a client reached us at, for absolute URLs in responses (paging URLs, issuer). */
export function originOf(req: FastifyRequest): string {
  const fixed = req.server.platform.config.publicUrl;
  if (fixed) return fixed.replace(/\/$/, '');
  return `${req.protocol}://${req.host}`;
}
