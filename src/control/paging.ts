import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Id } from './limits.js';
import { CONTROL_PATH } from '../core/security.js';

/** Where the control plane is served (core/security.ts's, whose guard covers it; routes.ts re-exports it for the app). */
export const CONTROL_PREFIX = CONTROL_PATH;

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
  return pageBy(reply, path, rows, limit, (last) => ({ after: last.id }));
}

/**
 * One page of a list in some order: as pageById, with the next page's cursor (`after`, or
 * the fields a row without an id is found by) taken from the page's last row. `path` may
 * carry a filter of its own (`/group_chats?account_id=5`); the cursor and limit follow it.
 */
export function pageBy<T>(reply: FastifyReply, path: string, rows: T[], limit: number, cursor: (last: T) => Record<string, string | number>): T[] {
  if (rows.length <= limit) return rows;
  const page = rows.slice(0, limit);
  const next = new URLSearchParams();
  for (const [k, v] of Object.entries(cursor(page[page.length - 1]))) next.set(k, String(v));
  next.set('limit', String(limit));
  reply.header('link', `<${CONTROL_PREFIX}${path}${path.includes('?') ? '&' : '?'}${next}>; rel="next"`);
  return page;
}
