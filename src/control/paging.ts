import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Id } from './limits.js';
import { CONTROL_PATH } from '../core/security.js';
import { ControlError } from '../core/errors.js';
import { cursorMissing } from '../core/cursors.js';

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
 * Lists in order of time (channels, group chats, push tokens) name the last item of the page
 * before by its keys and `after_time`, its time: that place stays when the item is deleted.
 */
export const AFTER_TIME = 'after_time';
export const TimedListQuery = { ...ListQuery, [AFTER_TIME]: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })) };

/**
 * Where a page of a list in order of time starts: after the item that `keys` (the query
 * fields naming it, all of them or none) and `after_time` name, or, without `after_time` (a
 * Link of an earlier version), after the place `lookUp` finds for the item as stored; an item
 * gone since then names no place: a 400 saying `gone`. Undefined from the start of the list.
 */
export async function positionAfter<P>(
  query: Readonly<Record<string, unknown>>,
  keys: readonly string[],
  at: (time: number) => P,
  lookUp: () => Promise<P | undefined>,
  gone: () => string,
): Promise<P | undefined> {
  const time = query[AFTER_TIME] as number | undefined;
  const partial = cursorMissing(query, time === undefined ? keys : [...keys, AFTER_TIME]);
  if (partial) throw new ControlError(400, `${partial.missing.join(', ')}: needed with ${partial.given.join(' and ')}`);
  if (query[keys[0]] === undefined) return undefined;
  if (time !== undefined) return at(time);
  const found = await lookUp();
  if (!found) throw new ControlError(400, gone());
  return found;
}

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
