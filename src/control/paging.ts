import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Id } from './limits.js';

/** The control plane's prefix (also CONTROL_PREFIX of routes.ts, which re-exports it). */
const PREFIX = '/_kapibara/v1';

/**
 * How the control plane's lists are paged (docs/control-plane.md): by id, `limit` at a time
 * from the one after `after`. A page costs what it holds, whatever the store holds.
 */
export const LIST_PAGE = 1000;
export const ListQuery = {
  after: Type.Optional(Id),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIST_PAGE })),
};

/**
 * One page of a list by id: the rows (one more was read, to know whether more follow) and,
 * when more do, a `Link: <…>; rel="next"` header naming the next page (`path` under the prefix).
 */
export function pageById<T extends { id: number }>(reply: FastifyReply, path: string, rows: T[], limit: number): T[] {
  if (rows.length <= limit) return rows;
  const page = rows.slice(0, limit);
  reply.header('link', `<${PREFIX}${path}?after=${page[page.length - 1].id}&limit=${limit}>; rel="next"`);
  return page;
}
