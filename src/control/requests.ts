import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { filterRecords, requestLog, resolveApps } from '../core/inspector.js';
import type { Platform } from '../core/platform.js';
import { NO_CONTENT } from '../core/http.js';

/**
 * The request inspector on the control plane: GET /requests lists what apps sent to the
 * emulated Kakao hosts (filtered), DELETE /requests forgets it (docs/testing.md).
 */
export const RequestsQuery = Type.Object(
  {
    app: Type.Optional(Type.Integer({ description: 'app id' })),
    account: Type.Optional(Type.Integer({ description: 'account id of the person' })),
    path: Type.Optional(Type.String({ description: 'an exact path, or a prefix ending in *' })),
    status: Type.Optional(Type.String({ pattern: '^([1-5]\\d\\d|[1-5]xx)$', description: 'a status such as 200, or a class such as 4xx' })),
    method: Type.Optional(Type.String()),
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'only records with a greater id' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: 'the newest this many' })),
  },
  { additionalProperties: false },
);

/** Held records matching `filter`, with the apps of kauth calls (named by client_id) filled in. */
export async function listRequests(platform: Platform, filter: typeof RequestsQuery.static) {
  const log = requestLog(platform.store);
  const records = log.all();
  await resolveApps(records, async (key) => (await platform.directory.appByKey(key))?.app.id);
  return { capacity: log.capacity, recorded: log.recorded, held: log.size, requests: filterRecords(records, filter) };
}

export default async function requestsRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/requests', { schema: { querystring: RequestsQuery } }, async (req) => listRequests(app.platform, req.query));
  app.delete('/requests', { config: NO_CONTENT }, async (_req, reply) => {
    requestLog(app.platform.store).clear();
    return reply.send();
  });
}
