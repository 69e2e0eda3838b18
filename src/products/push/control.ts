import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { mustApp } from '../../control/lookups.js';
import { asAfterDeletes } from '../../db/dialect.js';
import { Id } from '../../control/limits.js';
import { AFTER_TIME, LIST_PAGE, ListQuery, TimedListQuery, pageBy, positionAfter } from '../../control/paging.js';
import { ControlError } from '../../core/errors.js';
import { isoSeconds } from '../../core/clock.js';
import * as store from './store.js';
import { DeviceId, notificationView } from './operations.js';

/**
 * Push control-plane routes, mounted under /_kapibara/v1 (operator token checked there): the
 * token lifetime of an app, every registered device (expired ones too) and each device's
 * inbox: what APNs or FCM would have delivered.
 */

const AppParams = Type.Object({ app_id: Id });
export const SettingsBody = Type.Object({ token_ttl_days: Type.Integer({ minimum: -1, maximum: 3650 }) }, { additionalProperties: false });
const TokensQuery = Type.Object({
  // Strings as stored: a uuid is digits, a device id has no control characters (nor NUL, which PostgreSQL refuses).
  after_uuid: Type.Optional(DeviceId),
  after_device_id: Type.Optional(DeviceId),
  after_time: TimedListQuery[AFTER_TIME],
  limit: ListQuery.limit,
});
export const InboxQuery = Type.Object({
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
  /**
   * By uuid, then registration (then device id), a page at a time: `after_uuid`,
   * `after_device_id` and `after_time` name the last device of the page before and its
   * registration time, a place that stays when it is deregistered (without `after_time`, an
   * earlier version's Link: the time is looked up, and once deregistered it names none: 400).
   */
  app.get('/apps/:app_id/push/tokens', { schema: { params: AppParams, querystring: TokensQuery } }, async (req, reply) => {
    const appId = req.params.app_id;
    await mustApp(db(), appId);
    const { after_uuid: uuid, after_device_id: deviceId } = req.query;
    const at = await positionAfter(
      req.query,
      ['after_uuid', 'after_device_id'],
      (createdAt) => ({ uuid: uuid!, createdAt, deviceId: deviceId! }),
      () => store.tokenPosition(db(), appId, uuid!, deviceId!),
      () => `after_device_id: app ${appId} has no device ${deviceId} of uuid ${uuid}`,
    );
    const limit = req.query.limit ?? LIST_PAGE;
    const now = app.platform.clock.now();
    const rows = await store.tokensPage(db(), appId, at, limit + 1);
    const cursor = (last: store.TokenRow) => ({ after_uuid: last.uuid, after_device_id: last.device_id, after_time: last.created_at });
    return pageBy(reply, `/apps/${appId}/push/tokens`, rows, limit, cursor).map((t) => tokenJson(t, now));
  });
  app.get('/apps/:app_id/push/inbox', { schema: { params: AppParams, querystring: InboxQuery } }, async (req) => {
    await mustApp(db(), req.params.app_id);
    const rows = await store.deliveries(db(), req.params.app_id, { uuid: req.query.uuid, deviceId: req.query.device_id }, req.query.limit ?? 100);
    return rows.map(deliveryJson);
  });
}
