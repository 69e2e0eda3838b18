import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { mustApp } from '../../control/lookups.js';
import { asAfterDeletes } from '../../db/dialect.js';
import { Id } from '../../control/limits.js';
import { ControlError } from '../../core/errors.js';
import { isoSeconds } from '../../core/clock.js';
import { type WebhookCallRow, deleteWebhook, findWebhook, listWebhookCalls, saveWebhook } from './store.js';
import { NO_CONTENT } from '../../core/http.js';

/**
 * Sharing control-plane routes (under /_kapibara/v1): the app's sharing success webhook
 * (URL and method, as set in the app's console on the real platform) and every call made.
 */

const AppParams = Type.Object({ app_id: Id });
export const WebhookBody = Type.Object(
  { url: Type.String({ minLength: 1, maxLength: 2000 }), method: Type.Union([Type.Literal('GET'), Type.Literal('POST')]) },
  { additionalProperties: false },
);
export const CallsQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) });

export function webhookCallJson(c: WebhookCallRow) {
  return {
    id: Number(c.id),
    account_id: Number(c.account_id),
    url: c.url,
    method: c.method,
    resource_id: c.resource_id,
    params: JSON.parse(c.params) as Record<string, string>,
    status: c.status === null ? null : Number(c.status),
    error: c.error,
    duration_ms: Number(c.duration_ms),
    called_at: isoSeconds(Number(c.called_at)),
  };
}

export default async function sharingControlRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const db = () => app.platform.db;

  app.get('/apps/:app_id/sharing_webhook', { schema: { params: AppParams } }, async (req) => {
    await mustApp(db(), req.params.app_id);
    const hook = await findWebhook(db(), req.params.app_id);
    if (!hook) throw new ControlError(404, `app ${req.params.app_id} has no sharing webhook`);
    return { url: hook.url, method: hook.method, updated_at: isoSeconds(hook.updatedAt) };
  });
  app.put('/apps/:app_id/sharing_webhook', { schema: { params: AppParams, body: WebhookBody } }, async (req) => {
    await mustApp(db(), req.params.app_id);
    let url: URL;
    try {
      url = new URL(req.body.url);
    } catch {
      throw new ControlError(400, `url: ${req.body.url} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ControlError(400, 'url: must be an http or https URL');
    const now = app.platform.clock.now();
    await asAfterDeletes(() => saveWebhook(db(), req.params.app_id, req.body.url, req.body.method, now), () => mustApp(db(), req.params.app_id));
    return { url: req.body.url, method: req.body.method, updated_at: isoSeconds(now) };
  });
  app.delete('/apps/:app_id/sharing_webhook', { config: NO_CONTENT, schema: { params: AppParams } }, async (req, reply) => {
    await mustApp(db(), req.params.app_id);
    if (!(await deleteWebhook(db(), req.params.app_id))) throw new ControlError(404, `app ${req.params.app_id} has no sharing webhook`);
    return reply.send();
  });
  app.get('/apps/:app_id/sharing_webhook/calls', { schema: { params: AppParams, querystring: CallsQuery } }, async (req) => {
    await mustApp(db(), req.params.app_id);
    const calls = await listWebhookCalls(db(), { appId: req.params.app_id }, req.query.limit ?? 50);
    return { calls: calls.map(webhookCallJson) };
  });
}
