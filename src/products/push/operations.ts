import { type Static, Type } from '@sinclair/typebox';
import type { AppCall } from '../../core/auth.js';
import { isoSeconds } from '../../core/clock.js';
import { invalidParam } from '../../core/errors.js';
import { newIds } from '../../db/ids.js';
import { jsonParam } from '../../core/params.js';
import * as store from './store.js';

/**
 * Push (products notes §3): tokens registered by the service's back end, pushes delivered
 * to a per-device inbox instead of Apple's and Google's services. v1 paths name FCM `gcm`.
 */

export type ApiVersion = 'v1' | 'v2';
export const UUIDS_MAX = 100;
/** APNs' limit for one notification, counted as the products notes say. */
export const APNS_PAYLOAD_MAX = 4096;
/** Not counted against the APNs limit (devlog push.md). */
const APNS_UNCOUNTED = ['topic', 'push_alert', 'return_url', 'push_token'];
const DAY_MS = 24 * 3600 * 1000;
const UUID_MAX = 2n ** 63n - 1n;

export function checkUuid(value: string, name = 'uuid'): string {
  const text = value.trim();
  if (!/^[1-9]\d{0,18}$/.test(text) || BigInt(text) > UUID_MAX) throw invalidParam(`invalid ${name}: must be an integer from 1 to 2^63-1 (got ${JSON.stringify(value)}).`);
  return text;
}

/** `apns`, `fcm`, and v1's `gcm` (the same service under its old name). */
export function pushType(value: string): 'apns' | 'fcm' {
  if (value === 'apns') return 'apns';
  if (value === 'fcm' || value === 'gcm') return 'fcm';
  throw invalidParam(`invalid push_type: ${value} (apns or fcm).`);
}

const wireType = (type: 'apns' | 'fcm', version: ApiVersion) => (type === 'fcm' && version === 'v1' ? 'gcm' : type);

function checkToken(type: 'apns' | 'fcm', token: string): void {
  if (type === 'apns' && !/^[0-9a-fA-F]{64,200}$/.test(token)) throw invalidParam('invalid push_token: an APNs device token is 64 (or more) hexadecimal characters.');
  // eslint-disable-next-line no-control-regex
  if (type === 'fcm' && (token.length === 0 || token.length > 4096 || /[\s\u0000-\u001f\u007f]/.test(token))) throw invalidParam('invalid push_token: not an FCM registration token.');
}

/** A device id as registered (also a cursor of the control plane's token list). */
export const DeviceId = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
export const RegisterParams = Type.Object({ uuid: Type.String(), device_id: DeviceId, push_type: Type.String(), push_token: Type.String() });
export const DeregisterParams = Type.Object({ uuid: Type.String(), device_id: DeviceId, push_type: Type.String() });
export const TokensParams = Type.Object({ uuid: Type.Optional(Type.String()), uuids: Type.Optional(Type.String()) });
export const SendParams = Type.Object({ uuids: Type.String(), push_message: Type.String() });

/** POST /v2/push/register: the bare number of days the token lives (-1: no limit). */
export async function register(call: AppCall, input: Static<typeof RegisterParams>): Promise<number> {
  const { db, clock } = call.platform;
  const uuid = checkUuid(input.uuid);
  const type = pushType(input.push_type);
  checkToken(type, input.push_token);
  const days = await store.tokenTtlDays(db, call.app.id);
  const now = clock.now();
  await store.upsertToken(db, {
    app_id: call.app.id,
    uuid,
    device_id: input.device_id,
    push_type: type,
    push_token: input.push_token,
    created_at: now,
    updated_at: now,
    expires_at: days < 0 ? null : now + days * DAY_MS,
  });
  return days;
}

/** POST /v2/push/deregister: removes the token; the bare number of tokens removed (0 or 1). */
export async function deregister(call: AppCall, input: Static<typeof DeregisterParams>): Promise<number> {
  return store.deleteToken(call.platform.db, call.app.id, checkUuid(input.uuid), input.device_id, pushType(input.push_type), call.platform.clock.now());
}

function uuidList(text: string, name: string): string[] {
  const list = jsonParam(name, text, Type.Array(Type.Union([Type.String(), Type.Integer()])));
  if (!list || list.length === 0) throw invalidParam(`invalid ${name}: a JSON array of uuids, e.g. ["1234"].`);
  if (list.length > UUIDS_MAX) throw invalidParam(`invalid ${name}: at most ${UUIDS_MAX} uuids a request (got ${list.length}).`);
  return [...new Set(list.map((u) => checkUuid(String(u), name)))];
}

export interface TokenJson {
  user_id?: string;
  uuid: string;
  device_id: string;
  push_type: string;
  push_token: string;
  created_at: string;
  updated_at: string;
}

/** GET|POST /v2/push/tokens: a JSON array of the live tokens of `uuid` or `uuids`. */
export async function tokens(call: AppCall, input: Static<typeof TokensParams>, version: ApiVersion): Promise<TokenJson[]> {
  let uuids: string[];
  if (input.uuids !== undefined) uuids = uuidList(input.uuids, 'uuids');
  else if (input.uuid !== undefined) uuids = [checkUuid(input.uuid)];
  else throw invalidParam('uuid or uuids is required.');
  const rows = await store.liveTokens(call.platform.db, call.app.id, uuids, call.platform.clock.now());
  const order = new Map(uuids.map((u, i) => [u, i]));
  rows.sort((a, b) => order.get(a.uuid)! - order.get(b.uuid)!);
  return rows.map((r) => ({
    // v1 answers still carried the deprecated user_id (FL-old fixture).
    ...(version === 'v1' ? { user_id: r.uuid } : {}),
    uuid: r.uuid,
    device_id: r.device_id,
    push_type: wireType(r.push_type, version),
    push_token: r.push_token,
    created_at: isoSeconds(r.created_at),
    updated_at: isoSeconds(r.updated_at),
  }));
}

const Json = Type.Record(Type.String(), Type.Unknown());
const PushMessage = Type.Object({ for_apns: Type.Optional(Json), for_fcm: Type.Optional(Json), for_gcm: Type.Optional(Json) });

function bytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** What the APNs limit counts: the parameters other than topic, push_alert, return_url and push_token. */
function apnsCounted(forApns: Record<string, unknown>): Record<string, unknown> {
  const counted: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(forApns)) if (!APNS_UNCOUNTED.includes(k)) counted[k] = v;
  return counted;
}

/**
 * The APNs size rule (devlog push.md): over 4 KB with a string `message`, the end of the
 * message is cut and ".." appended, as little as needed; otherwise an oversize message is refused.
 */
export function fitApns(forApns: Record<string, unknown>): { message: Record<string, unknown>; truncated: boolean } {
  if (bytes(apnsCounted(forApns)) <= APNS_PAYLOAD_MAX) return { message: forApns, truncated: false };
  const text = forApns.message;
  const tooLarge = () => invalidParam(`invalid push_message.for_apns: ${bytes(apnsCounted(forApns))} bytes, more than the ${APNS_PAYLOAD_MAX} APNs allows${typeof text === 'string' ? ' even with the message cut' : ''}.`);
  if (typeof text !== 'string') throw tooLarge();
  const chars = Array.from(text);
  const withPrefix = (n: number) => ({ ...forApns, message: `${chars.slice(0, n).join('')}..` });
  if (bytes(apnsCounted(withPrefix(0))) > APNS_PAYLOAD_MAX) throw tooLarge();
  let lo = 0;
  let hi = chars.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (bytes(apnsCounted(withPrefix(mid))) <= APNS_PAYLOAD_MAX) lo = mid;
    else hi = mid - 1;
  }
  return { message: withPrefix(lo), truncated: true };
}

/**
 * POST /v2/push/send: every live token of each uuid gets the part of `push_message` for its
 * service (`for_apns`; `for_fcm`, or v1's `for_gcm`); a device whose service has no part
 * gets nothing, nor does an FCM device when the message is a `dry_run`.
 */
export async function send(call: AppCall, input: Static<typeof SendParams>): Promise<void> {
  const uuids = uuidList(input.uuids, 'uuids');
  const message = jsonParam('push_message', input.push_message, PushMessage);
  if (!message) throw invalidParam('push_message is required.');
  const forFcm = message.for_fcm ?? message.for_gcm;
  if (!message.for_apns && !forFcm) throw invalidParam('invalid push_message: needs for_apns or for_fcm.');
  const apns = message.for_apns ? fitApns(message.for_apns) : undefined;
  const { db, clock } = call.platform;
  const now = clock.now();
  const deliveries = [];
  for (const token of await store.liveTokens(db, call.app.id, uuids, now)) {
    const part = token.push_type === 'apns' ? apns : forFcm && forFcm.dry_run !== true ? { message: forFcm, truncated: false } : undefined;
    if (part) deliveries.push({ token, part });
  }
  const ids = await newIds(db, 'id', deliveries.length);
  const rows: store.DeliveryRow[] = [];
  for (const [i, { token, part }] of deliveries.entries()) {
    rows.push({
      id: ids[i],
      app_id: call.app.id,
      uuid: token.uuid,
      device_id: token.device_id,
      push_type: token.push_type,
      push_token: token.push_token,
      message: JSON.stringify(part.message),
      truncated: part.truncated ? 1 : 0,
      sent_at: now,
    });
  }
  await store.insertDeliveries(db, rows);
}

/** How a phone would show a delivered push: title, body, badge, sound, custom fields. */
export function notificationView(type: 'apns' | 'fcm', message: Record<string, any>) {
  if (type === 'apns') {
    const m = message.message;
    const alert = typeof m === 'string' ? { body: m } : m && typeof m === 'object' ? { title: m.title, body: m.body ?? (m['loc-key'] ? `${m['loc-key']}(${(m['loc-args'] ?? []).join(', ')})` : undefined) } : {};
    return {
      title: typeof alert.title === 'string' ? alert.title : undefined,
      body: message.push_alert === false ? undefined : typeof alert.body === 'string' ? alert.body : undefined,
      badge: typeof message.badge === 'number' ? message.badge : undefined,
      sound: typeof message.sound === 'string' ? message.sound : undefined,
      silent: message.push_alert === false || message['content-available'] === 1,
      custom: message.custom_field && typeof message.custom_field === 'object' ? message.custom_field : {},
    };
  }
  const n = message.notification && typeof message.notification === 'object' ? message.notification : {};
  return {
    title: typeof n.title === 'string' ? n.title : undefined,
    body: typeof n.body === 'string' ? n.body : undefined,
    badge: undefined,
    sound: typeof n.sound === 'string' ? n.sound : undefined,
    silent: !n.title && !n.body,
    custom: message.custom_field && typeof message.custom_field === 'object' ? message.custom_field : message.data && typeof message.data === 'object' ? message.data : {},
  };
}
