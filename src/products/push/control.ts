import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { mustApp } from '../../control/lookups.js';
import { asAfterDeletes } from '../../db/dialect.js';
import { Id } from '../../control/limits.js';
import { isoSeconds } from '../../core/clock.js';
import * as store from './store.js';
import { notificationView } from './operations.js';

/**
 * Push control-plane routes, mounted under /_kapibara/v1 (operator token checked there): the
 * token lifetime of an app, every registered device (expired ones too) and each device's
 * inbox: what APNs or FCM would have delivered.
 */

const AppParams = Type.Object({ app_id: Id });
const SettingsBody = Type.Object({ token_ttl_days: Type.Integer({ minimum: -1, maximum: 3650 }) }, { additionalProperties: false });
const InboxQuery = Type.Object({
  uuid: Type.Optional(Type.String()),
  device_id: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
});

export function deliveryJson(d: store.DeliveryRow) {
  const message = JSON.parse(d.message);
  return {
    id: d.id,
    uuid: d.uuid,
    device_id: d.device_id,
    push_type: d.push_type,
    push_token: d.push_token,
    sent_at: isoSeconds(d.sent_at),
    truncated: d.truncated === 1,
    message,
    notification: notificationView(d.push_type, message),
  };
}

export function tokenJson(t: store.TokenRow, now: number) {
  return {
    uuid: t.uuid,
    device_id: t.device_id,
    push_type: t.push_type,
    push_token: t.push_token,
    created_at: isoSeconds(t.created_at),
    updated_at: isoSeconds(t.updated_at),
    expires_at: t.expires_at === null ? null : isoSeconds(t.expires_at),
    expired: t.expires_at !== null && t.expires_at <= now,
  };
}

export default async function pushControlRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const db = () => app.platform.db;

  app.get('/apps/:app_id/push', { schema: { params: AppParams } }, async (req) => {
    await mustApp(db(), req.params.app_id);
    return { token_ttl_days: await store.tokenTtlDays(db(), req.params.app_id) };
  });
  app.put('/apps/:app_id/push', { schema: { params: AppParams, body: SettingsBody } }, async (req) => {
    await mustApp(db(), req.params.app_id);
    await asAfterDeletes(() => store.setTokenTtlDays(db(), req.params.app_id, req.body.token_ttl_days), () => mustApp(db(), req.params.app_id));
    return { token_ttl_days: req.body.token_ttl_days };
  });
  app.get('/apps/:app_id/push/tokens', { schema: { params: AppParams } }, async (req) => {
    await mustApp(db(), req.params.app_id);
    const now = app.platform.clock.now();
    return (await store.allTokens(db(), req.params.app_id)).map((t) => tokenJson(t, now));
  });
  app.get('/apps/:app_id/push/inbox', { schema: { params: AppParams, querystring: InboxQuery } }, async (req) => {
    await mustApp(db(), req.params.app_id);
    const rows = await store.deliveries(db(), req.params.app_id, { uuid: req.query.uuid, deviceId: req.query.device_id }, req.query.limit ?? 100);
    return rows.map(deliveryJson);
  });
}
