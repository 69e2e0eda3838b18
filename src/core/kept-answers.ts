import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../db/index.js';
import { StampedCache } from '../db/stamped-cache.js';
import { JSON_TYPE } from './http.js';
import type { CallIdentity } from './inspector.js';

export interface Answer {
  /** The 200 body; serialized with the route's response schema. */
  payload: unknown;
  /** Until when (platform clock, ms) the answer may be served again: the token's expiry. */
  validUntil: number;
  /** Who made the call (the request inspector records it for kept answers too). */
  who?: CallIdentity;
}

/**
 * Serialized answers of hot read-only GET routes, kept while the store is unchanged
 * (SQLite; see StampedCache) and served again to the same request until `validUntil` or
 * the turn of the year (age ranges). An answer must depend on nothing but the credential,
 * the URL, what `varies` names (headers such as KA or Host), the database and the year.
 * Errors are never kept: they are thrown by `compute` as usual. One instance per route and
 * store (a route declared with `keep`, see core/route.ts).
 */
export class KeptAnswers {
  // Bodies are kept as bytes: a string answer is encoded to UTF-8 and measured on every send.
  private readonly cache: StampedCache<{ body: Buffer; validUntil: number; year: number; who: CallIdentity | null }>;

  constructor(store: Store) {
    this.cache = new StampedCache(store, { sizeOf: (kept) => kept.body.length });
  }

  /** The UTC year of the last request and where it ends (ms): a Date per request is not needed. */
  private year = 0;
  private yearStart = 0;
  private yearEnd = 0;

  private yearOf(now: number): number {
    if (now < this.yearStart || now >= this.yearEnd) {
      this.year = new Date(now).getUTCFullYear();
      this.yearStart = Date.UTC(this.year, 0, 1);
      this.yearEnd = Date.UTC(this.year + 1, 0, 1);
    }
    return this.year;
  }

  async serve(req: FastifyRequest, reply: FastifyReply, varies: string, compute: () => Promise<Answer>): Promise<FastifyReply> {
    const { clock } = req.server.platform;
    const now = clock.now();
    const year = this.yearOf(now);
    // A GET with form fields in its body (core/get-form.ts) differs by more than its URL.
    const key = req.method === 'GET' && req.body === undefined ? `${req.headers.authorization ?? ''}\n${req.url}\n${varies}` : undefined;
    const kept = key === undefined ? undefined : this.cache.lookup(key);
    if (kept?.hit && kept.value.validUntil > now && kept.value.year === year) {
      req.kapibaraCall = kept.value.who;
      return reply.type(JSON_TYPE).send(kept.value.body);
    }
    const answer = await compute();
    const body = Buffer.from(reply.serialize(answer.payload) as string);
    // A kept answer that could not be served (past its token's expiry, or of another year) is
    // replaced: left in place, it would make every later request compute its answer again.
    if (key !== undefined && kept) this.cache.store(key, kept.stamp, { body, validUntil: answer.validUntil, year, who: answer.who ?? null });
    return reply.type(JSON_TYPE).send(body);
  }
}
