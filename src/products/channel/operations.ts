import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type AppCall, type PersonCall, consentItemOn } from '../../core/auth.js';
import { isoSeconds } from '../../core/clock.js';
import { KakaoApiError, consentItemDisabled, invalidParam } from '../../core/errors.js';
import type { App } from '../../core/model.js';
import type { Platform } from '../../core/platform.js';
import { jsonParam, listParam } from '../../core/params.js';
import { typeBoxProblem } from '../../core/schema-errors.js';
import { hasScope } from '../../core/scopes.js';
import { findLinkByUserId } from '../../store/links.js';
import * as store from './store.js';
import { newId } from '../../db/ids.js';
import { asAfterDeletes } from '../../db/dialect.js';
import { findAppById } from '../../store/apps.js';

/** Kakao Talk Channel operations: relations (wire facts §4.5, products notes §2) and customer files (§2.3). */

export const CHANNEL_CONSENT = 'plusfriends';
export const RELATIONS_API_TYPE = 'TALK_CHANNEL';
export const MULTI_TARGETS_MAX = 200;
export const FILE_USERS_MAX = 2000;
export const FILES_PER_CHANNEL_MAX = 30;
export const SCHEMA_FIELDS_MAX = 30;
export const FILE_NAME_MAX = 50;

export const channelMissing = (publicId: string) => new KakaoApiError(-541, `channel(${publicId}) does not exist.`, 400);
export const channelBanned = (publicId: string) => new KakaoApiError(-544, `channel(${publicId}) is banned.`, 400);
export const channelNotLinked = (publicId: string, app: App) => new KakaoApiError(-819, `channel(${publicId}) is not linked to app(${app.id}).`, 400);

export interface ChannelRelationJson {
  channel_uuid: string;
  channel_public_id: string;
  relation: store.Relation;
  created_at?: string;
  updated_at?: string;
}

function relationJson(channel: store.ChannelRow, row: store.RelationRow | undefined, withCreatedAt: boolean): ChannelRelationJson {
  const json: ChannelRelationJson = { channel_uuid: channel.search_id, channel_public_id: channel.public_id, relation: row?.relation ?? 'NONE' };
  // NONE carries no timestamp (FL-old fixture).
  if (row) {
    if (withCreatedAt) json.created_at = isoSeconds(row.createdAt);
    json.updated_at = isoSeconds(row.updatedAt);
  }
  return json;
}

function checkIdType(type: string | undefined): void {
  if (type !== undefined && type !== 'channel_public_id') throw invalidParam(`invalid channel_id_type: ${type} (only channel_public_id is supported).`);
}

/** The channels a relation call asks about: the named ones (each linked to the app), or every channel linked to it. */
async function channelsAsked(platform: Platform, app: App, ids: string[] | undefined): Promise<store.ChannelRow[]> {
  if (ids === undefined || ids.length === 0) return store.channelsOfApp(platform.db, app.id);
  const unique = [...new Set(ids)];
  const found = new Map((await store.findChannelsByPublicIds(platform.db, unique)).map((c) => [c.public_id, c]));
  const out: store.ChannelRow[] = [];
  for (const id of unique) {
    const channel = found.get(id);
    if (!channel) throw channelMissing(id);
    if (!(await store.isLinked(platform.db, channel.id, app.id))) throw channelNotLinked(id, app);
    out.push(channel);
  }
  return out;
}

/** The channel an app-key call names: it exists (-541), is not banned (-544) and is linked to the caller's app (-819). */
async function appChannel(call: AppCall, publicId: string): Promise<store.ChannelRow> {
  const channel = await store.findChannelByPublicId(call.platform.db, publicId);
  if (!channel) throw channelMissing(publicId);
  if (channel.banned) throw channelBanned(publicId);
  if (!(await store.isLinked(call.platform.db, channel.id, call.app.id))) throw channelNotLinked(publicId, call.app);
  return channel;
}

/** The SDK calls `/v1/app/validate/sdk` checks before they open Kakao Talk (iOS, Android and Flutter TalkApi). */
export const SDK_CHANNEL_URIS = ['/sdk/channel/add', '/sdk/channel/chat'] as const;
const QuotaProperties = Type.Object({ uri: Type.Union(SDK_CHANNEL_URIS.map((uri) => Type.Literal(uri))), channel_public_id: Type.Optional(Type.String()) });

/**
 * POST /v1/app/validate/sdk (products notes §2.4): the SDKs ask before `addChannel` and
 * `chatChannel` open Kakao Talk whether the app may do it, with `quota_properties`
 * `{"uri":"/sdk/channel/add"|"/sdk/channel/chat","channel_public_id":…}`. The channel must
 * exist and be linked to the key's app; the answer of a success is undocumented and the SDKs
 * read none: `{}`.
 */
export async function validateSdk(call: AppCall, quotaProperties: string | undefined): Promise<Record<string, never>> {
  const quota = jsonParam('quota_properties', quotaProperties, QuotaProperties);
  if (!quota) throw invalidParam('quota_properties is required.');
  if (!quota.channel_public_id) throw invalidParam(`invalid quota_properties: channel_public_id is required for ${quota.uri}.`);
  await appChannel(call, quota.channel_public_id);
  return {};
}

/**
 * Adds the channel for the person (relation ADDED; a blocked channel is unblocked and added),
 * as its add page, the follow page and Kakao Login's consent page (channel_public_id) do.
 * Adding a channel already added keeps its time. `db`: the caller's transaction when the add
 * is part of a larger write (a consent).
 */
export async function addChannel(platform: Platform, channelId: number, accountId: number, db: Kysely<DB> = platform.db): Promise<void> {
  await store.setRelation(db, channelId, accountId, 'ADDED', platform.clock.now());
}

/** A channel as Kakao Login's consent page offers it. */
export interface OfferedChannel {
  id: number;
  publicId: string;
  name: string;
}

/**
 * The channels an app names in `channel_public_id` on /oauth/authorize that are linked to it,
 * by public id (a name missing from the answer does not exist or is not linked to the app).
 */
export async function linkedChannels(platform: Platform, appId: number, publicIds: string[]): Promise<Map<string, OfferedChannel>> {
  // The app's linked channels in one query, in the order they were named.
  const linked = new Map((await store.channelsOfApp(platform.db, appId)).map((c) => [c.public_id, c]));
  const out = new Map<string, OfferedChannel>();
  for (const publicId of publicIds) {
    const channel = linked.get(publicId);
    if (channel) out.set(publicId, { id: channel.id, publicId, name: channel.name });
  }
  return out;
}

/** Of these channels, those the person has neither added nor blocked: the ones worth offering. */
export async function channelsNotRelated(platform: Platform, channels: readonly OfferedChannel[], accountId: number): Promise<OfferedChannel[]> {
  if (channels.length === 0) return [];
  const related = new Set((await store.relationsOf(platform.db, channels.map((c) => c.id), [accountId])).map((r) => r.channelId));
  return channels.filter((c) => !related.has(c.id));
}

/** GET /v2/api/talk/channels (and the legacy v1 path): one person's relation to the app's channels. */
export async function personRelations(call: PersonCall, ids: string[] | undefined, idType: string | undefined) {
  checkIdType(idType);
  const channels = await channelsAsked(call.platform, call.app, ids);
  const rows = await store.relationsOf(call.platform.db, channels.map((c) => c.id), [call.account.id]);
  const byChannel = new Map(rows.map((r) => [r.channelId, r]));
  return { user_id: call.link.userId, channels: channels.map((c) => relationJson(c, byChannel.get(c.id), false)) };
}

export function channelIdsParam(value: string | string[] | undefined, name: string): string[] | undefined {
  try {
    return listParam(value);
  } catch {
    throw invalidParam(`invalid ${name}: not a valid JSON array.`);
  }
}

/**
 * GET /v2/api/talk/channels/multi (admin key): several users at once, a JSON array in
 * `target_ids` order. A user who has not agreed to `plusfriends` is listed with no channels.
 */
export async function multiRelations(call: AppCall, input: { target_ids: string; channel_ids?: string; channel_id_type?: string }) {
  // As the single-user form (its route's scopes): nothing without the consent item on.
  if (!consentItemOn(call.app, CHANNEL_CONSENT)) throw consentItemDisabled(call.app.name, CHANNEL_CONSENT, RELATIONS_API_TYPE);
  checkIdType(input.channel_id_type);
  let targets: number[];
  try {
    targets = (listParam(input.target_ids) ?? []).map((t) => (/^\d+$/.test(t) ? Number(t) : NaN));
  } catch {
    throw invalidParam('invalid target_ids: must be a JSON array of user ids.');
  }
  if (targets.length === 0 || targets.some((t) => !Number.isSafeInteger(t))) throw invalidParam('invalid target_ids: must be a JSON array of user ids.');
  if (targets.length > MULTI_TARGETS_MAX) throw invalidParam(`invalid target_ids: at most ${MULTI_TARGETS_MAX} users a request.`);
  const { db } = call.platform;
  const links = [];
  for (const userId of [...new Set(targets)]) {
    const link = await findLinkByUserId(db, call.app.id, userId);
    if (!link) throw invalidParam('invalid target_ids. can get the relation only to registered users.');
    links.push(link);
  }
  const channels = await channelsAsked(call.platform, call.app, channelIdsParam(input.channel_ids, 'channel_ids'));
  const agreed = links.filter((l) => hasScope(l.scopes, CHANNEL_CONSENT));
  const rows = await store.relationsOf(db, channels.map((c) => c.id), agreed.map((l) => l.accountId));
  const byPair = new Map(rows.map((r) => [`${r.channelId}:${r.accountId}`, r]));
  return links.map((link) => ({
    user_id: link.userId,
    channels: hasScope(link.scopes, CHANNEL_CONSENT) ? channels.map((c) => relationJson(c, byPair.get(`${c.id}:${link.accountId}`), true)) : [],
  }));
}

// Customer files (JSON bodies)

const compiled = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>();

/** A JSON request body checked against its schema; -2 names the first field that is wrong. */
export function jsonBody<T extends TSchema>(schema: T, contentType: string | undefined, body: unknown): Static<T> {
  if (!contentType || !/^application\/json\b/i.test(contentType) || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidParam('INVALID_PARAMETER: the request body must be a JSON object (Content-Type: application/json).');
  }
  let check = compiled.get(schema);
  if (!check) compiled.set(schema, (check = TypeCompiler.Compile(schema)));
  if (check.Check(body)) return body as Static<T>;
  const first = check.Errors(body).First();
  const path = (first?.path ?? '').replace(/^\//, '').replace(/\//g, '.');
  const top = path.split('.')[0];
  if (first && top && (body as Record<string, unknown>)[top] === undefined) throw invalidParam(`${top} is required.`);
  throw invalidParam(`invalid ${path || 'body'}: ${first ? typeBoxProblem(first) : 'bad value'}.`);
}

const FieldType = Type.Union([Type.Literal('string'), Type.Literal('number')]);
const PublicId = Type.String({ minLength: 1 });
const UserType = Type.Union([Type.Literal('app'), Type.Literal('phone')]);
const UserId = Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 1 })]);

export const CreateFileBody = Type.Object({
  channel_public_id: PublicId,
  file_name: Type.String(),
  schema: Type.Record(Type.String({ minLength: 1 }), FieldType, { minProperties: 1, maxProperties: SCHEMA_FIELDS_MAX }),
});
export const UpdateUsersBody = Type.Object({
  file_id: Type.Integer(),
  channel_public_id: PublicId,
  user_type: UserType,
  users: Type.Array(Type.Object({ id: UserId, field: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }), { minItems: 1 }),
});
export const DeleteUsersBody = Type.Object({
  file_id: Type.Integer(),
  channel_public_id: PublicId,
  user_type: UserType,
  users: Type.Array(Type.Object({ id: UserId }), { minItems: 1 }),
});

/**
 * A customer-file write whose channel or file was deleted while the call was under way (the
 * channel, or the app that made the file) answers what a call after the delete answers: -541,
 * -819 or -816 from `lookUpAgain`. The caller's own app gone is left to the route, whose key
 * then names no one (-401).
 */
function fileWrite<T>(call: AppCall, write: () => Promise<T>, lookUpAgain: () => Promise<unknown>): Promise<T> {
  return asAfterDeletes(write, async () => (await findAppById(call.platform.db, call.app.id)) && lookUpAgain());
}

async function channelFile(call: AppCall, channel: store.ChannelRow, fileId: number): Promise<store.FileRow> {
  const file = await store.findFile(call.platform.db, fileId);
  if (!file || file.channel_id !== channel.id) throw new KakaoApiError(-816, `invalid file_id: customer file ${fileId} does not exist in channel(${channel.public_id}).`, 400);
  return file;
}

export async function createFile(call: AppCall, body: Static<typeof CreateFileBody>) {
  const { db, clock } = call.platform;
  const channel = await appChannel(call, body.channel_public_id);
  const name = body.file_name.trim();
  // eslint-disable-next-line no-control-regex
  // Characters, not UTF-16 units: an emoji is one.
  if (!name || [...name].length > FILE_NAME_MAX || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new KakaoApiError(-817, `file_name "${body.file_name}" is not allowed: 1 to ${FILE_NAME_MAX} characters, no control characters.`, 400);
  }
  if (await store.findFileByName(db, channel.id, name)) throw new KakaoApiError(-817, `file_name "${name}" is already used by a customer file of channel(${channel.public_id}).`, 400);
  if ((await store.countFiles(db, channel.id)) >= FILES_PER_CHANNEL_MAX) {
    throw new KakaoApiError(-818, `channel(${channel.public_id}) already has ${FILES_PER_CHANNEL_MAX} customer files, the most it may have.`, 400);
  }
  const now = clock.now();
  const id = await newId(db);
  await fileWrite(
    call,
    () => store.insertFile(db, { id, channel_id: channel.id, app_id: call.app.id, file_name: name, schema: JSON.stringify(body.schema), created_at: now, updated_at: now }),
    () => appChannel(call, body.channel_public_id),
  );
  return { file_id: id };
}

export interface FileJson {
  file_id: number;
  file_name: string;
  schema: Record<string, 'string' | 'number'>;
  user_count: number;
  created_at: string;
  updated_at: string;
}

export async function listFiles(call: AppCall, publicId: string): Promise<FileJson[]> {
  const channel = await appChannel(call, publicId);
  return filesJson(call.platform, channel);
}

export async function filesJson(platform: Platform, channel: store.ChannelRow): Promise<FileJson[]> {
  const files = await store.filesOfChannel(platform.db, channel.id);
  const counts = await store.userCounts(platform.db, files.map((f) => f.id));
  return files.map((f) => ({
    file_id: f.id,
    file_name: f.file_name,
    schema: JSON.parse(f.schema),
    user_count: counts.get(f.id) ?? 0,
    created_at: isoSeconds(f.created_at),
    updated_at: isoSeconds(f.updated_at),
  }));
}

const PHONE = /^\+?[0-9][0-9-]{6,19}$/;

function tooMany(count: number): void {
  if (count > FILE_USERS_MAX) throw invalidParam(`invalid users: at most ${FILE_USERS_MAX} users a request (got ${count}).`);
}

/** A customer id as stored: an app user id linked to the app, or a phone number; undefined when it is neither. */
async function customerId(call: AppCall, userType: 'app' | 'phone', id: string | number, known: Map<string, boolean>): Promise<string | undefined> {
  const text = String(id).trim();
  if (userType === 'phone') return PHONE.test(text) ? text : undefined;
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) return undefined;
  let linked = known.get(text);
  if (linked === undefined) {
    linked = (await findLinkByUserId(call.platform.db, call.app.id, Number(text))) !== undefined;
    known.set(text, linked);
  }
  return linked ? text : undefined;
}

/**
 * POST /v1/talkchannel/update/target_users: adds or updates customers. A customer counts as
 * a success when its id is valid and at least one of its fields is in the file's schema with
 * a value of the schema's type; fields outside the schema are ignored.
 */
export async function updateUsers(call: AppCall, body: Static<typeof UpdateUsersBody>) {
  tooMany(body.users.length);
  const channel = await appChannel(call, body.channel_public_id);
  const file = await channelFile(call, channel, body.file_id);
  const schema = JSON.parse(file.schema) as Record<string, 'string' | 'number'>;
  const now = call.platform.clock.now();
  const known = new Map<string, boolean>();
  const accepted = new Map<string, store.FileUser>();
  for (const user of body.users) {
    const id = await customerId(call, body.user_type, user.id, known);
    if (id === undefined) continue;
    const fields: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(user.field ?? {})) {
      const type = schema[name];
      if (type === 'string' && typeof value === 'string') fields[name] = value;
      else if (type === 'number' && typeof value === 'number' && Number.isFinite(value)) fields[name] = value;
      else if (type === 'number' && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) fields[name] = Number(value);
    }
    if (Object.keys(fields).length === 0) continue;
    accepted.set(id, { userType: body.user_type, userId: id, fields, updatedAt: now });
  }
  await fileWrite(
    call,
    () => store.upsertFileUsers(call.platform.db, file.id, [...accepted.values()], now),
    async () => channelFile(call, await appChannel(call, body.channel_public_id), body.file_id),
  );
  return { file_id: file.id, request_count: body.users.length, success_count: accepted.size };
}

/** POST /v1/talkchannel/delete/target_users: removes customers; success_count is the number removed. */
export async function deleteUsers(call: AppCall, body: Static<typeof DeleteUsersBody>) {
  tooMany(body.users.length);
  const channel = await appChannel(call, body.channel_public_id);
  const file = await channelFile(call, channel, body.file_id);
  const ids = [...new Set(body.users.map((u) => String(u.id).trim()))];
  const removed = await store.deleteFileUsers(call.platform.db, file.id, body.user_type, ids, call.platform.clock.now());
  return { file_id: file.id, request_count: body.users.length, success_count: removed };
}
