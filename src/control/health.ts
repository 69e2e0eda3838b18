import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { JSON_TYPE } from '../core/http.js';
import { VERSION } from '../version.js';
import { appliedMigrations } from '../db/migrations/index.js';
import { storeUnavailable } from '../db/dialect.js';

/**
 * /_kapibara/health: is this instance ready to serve? The store answers a query, and every
 * migration this build knows has been applied. No operator token is needed (compose files,
 * load balancers and `kapibara exec` probe it), so it tells nothing about the state: no
 * counts, no names, no keys. 200 when ready, 503 with the control plane's `{error}` shape
 * (and the same fields) when not.
 */
export const HEALTH_PATH = '/_kapibara/health';

const started = Date.now();

export function healthRoutes(migrationNames: readonly string[]) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(HEALTH_PATH, {}, async (_req, reply) => {
      const { db, dialect } = app.platform;
      let reachable = true;
      let failure = '';
      let applied: string[] = [];
      try {
        await sql`select 1`.execute(db);
        applied = await appliedMigrations(db);
      } catch (err) {
        reachable = false;
        failure = storeUnavailable(err) ?? String((err as Error)?.message ?? err);
      }
      const missing = migrationNames.filter((m) => !applied.includes(m));
      const body = {
        status: reachable && missing.length === 0 ? 'ok' : 'unavailable',
        version: VERSION,
        uptime_s: Math.floor((Date.now() - started) / 1000),
        store: { dialect, reachable },
        migrations: { current: reachable && missing.length === 0, applied: applied.length, known: migrationNames.length },
      };
      if (body.status === 'ok') return reply.header('cache-control', 'no-store').type(JSON_TYPE).send(body);
      // Worded as every other call's answer then (core/http.ts), with what the store said.
      const error = !reachable ? `Kapibara's store does not answer (${failure})` : `migrations not applied: ${missing.join(', ')}`;
      return reply.status(503).header('cache-control', 'no-store').type(JSON_TYPE).send({ error, ...body });
    });
  };
}
