import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomInt } from 'node:crypto';
import { mustAccount, mustApp, uniquely } from '../../control/lookups.js';
import { asAfterDeletes } from '../../db/dialect.js';
import { ControlError } from '../../core/errors.js';
import { isoSeconds } from '../../core/clock.js';
import { originOf } from '../../core/platform.js';
import * as store from './store.js';
import { filesJson } from './operations.js';
import { newId } from '../../db/ids.js';
import { LIST_PAGE, ListQuery, TimedListQuery, pageBy, positionAfter } from '../../control/paging.js';
import { CREATED, NO_CONTENT } from '../../core/http.js';

/**
 * Channel control-plane routes, mounted under /_kapibara/v1 (operator token checked there):
 * create channels for apps, link them to other apps, set people's relations, read
 * followers, customer files and chats.
 */

const PUBLIC_ID = '^_[A-Za-z0-9]{3,16}$';
const SEARCH_ID = '^@[^\\s\\u0000-\\u001f\\u007f]{1,40}$';
const TEXT = '^[^\\u0000-\\u001f\\u007f]*$';

/** A channel's name, as POST and PATCH take it. */
const ChannelName = Type.String({ minLength: 1, maxLength: 100, pattern: TEXT });

export const ChannelBody = Type.Object(
  {
    app_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    name: ChannelName,
    search_id: Type.String({ pattern: SEARCH_ID }),
    public_id: Type.Optional(Type.String({ pattern: PUBLIC_ID })),
    profile_image_url: Type.Optional(Type.Union([Type.String({ maxLength: 2048, pattern: TEXT }), Type.Null()])),
    banned: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const ChannelPatch = Type.Object(
  {
    name: Type.Optional(ChannelName),
    search_id: Type.Optional(Type.String({ pattern: SEARCH_ID })),
    profile_image_url: Type.Optional(Type.Union([Type.String({ maxLength: 2048, pattern: TEXT }), Type.Null()])),
    banned: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const RelationBody = Type.Object(
  { relation: Type.Union([Type.Literal('ADDED'), Type.Literal('BLOCKED'), Type.Literal('NONE')]) },
  { additionalProperties: false },
);
const ChannelParams = Type.Object({ public_id: Type.String({ maxLength: 64, pattern: TEXT }) });
const ChannelAppParams = Type.Object({ public_id: Type.String({ maxLength: 64, pattern: TEXT }), app_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const ChannelAccountParams = Type.Object({ public_id: Type.String({ maxLength: 64, pattern: TEXT }), account_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Kakao's channel profile ids look like `_xcLqmC`: an underscore and six letters. */
function newPublicId(): string {
  let id = '_';
  for (let i = 0; i < 6; i++) id += LETTERS[randomInt(LETTERS.length)];
  return id;
}

export function channelUrls(origin: string, publicId: string) {
  return { friend_url: `${origin}/${publicId}/friend`, chat_url: `${origin}/${publicId}/chat` };
}

export function relationRowJson(r: store.RelationRow) {
  return { account_id: r.accountId, relation: r.relation, created_at: isoSeconds(r.createdAt), updated_at: isoSeconds(r.updatedAt) };
}

export default async function channelControlRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const db = () => app.platform.db;

  async function mustChannel(publicId: string): Promise<store.ChannelRow> {
    const found = await store.findChannelByPublicId(db(), publicId);
    if (!found) throw new ControlError(404, `channel ${publicId} not found`);
    return found;
  }
  async function channelJson(c: store.ChannelRow, origin: string) {
    return {
      id: c.id,
      public_id: c.public_id,
      search_id: c.search_id,
      name: c.name,
      profile_image_url: c.profile_image_url,
      owner_app_id: c.owner_app_id,
      app_ids: await store.linkedAppIds(db(), c.id),
      banned: c.banned === 1,
      created_at: isoSeconds(c.created_at),
      ...channelUrls(origin, c.public_id),
    };
  }

  app.post('/channels', { config: CREATED, schema: { body: ChannelBody } }, async (req) => {
    const owner = await mustApp(db(), req.body.app_id);
    const publicId = req.body.public_id ?? newPublicId();
    if (publicId.toLowerCase() === '_kapibara') throw new ControlError(400, 'public_id _kapibara is reserved');
    const row: store.ChannelRow = {
      id: await newId(db()),
      public_id: publicId,
      search_id: req.body.search_id,
      name: req.body.name,
      profile_image_url: req.body.profile_image_url ?? null,
      owner_app_id: owner.id,
      banned: req.body.banned ? 1 : 0,
      created_at: app.platform.clock.now(),
    };
    await asAfterDeletes(() => uniquely('channel', () => store.insertChannel(db(), row)), () => mustApp(db(), req.body.app_id));
    return await channelJson(row, originOf(req));
  });
  /**
   * Oldest first (time, then id), a page at a time: `after` and `after_time` are the id and
   * time of the last channel of the page before, a place that stays when it is deleted (`after`
   * alone, an earlier version's Link: its time is looked up, and once deleted it names none: 400).
   */
  app.get('/channels', { schema: { querystring: Type.Object(TimedListQuery) } }, async (req, reply) => {
    const { after } = req.query;
    const at = await positionAfter(
      req.query,
      ['after'],
      (createdAt) => ({ createdAt, id: after! }),
      () => store.channelPosition(db(), after!),
      () => `after: channel ${after} not found`,
    );
    const limit = req.query.limit ?? LIST_PAGE;
    const page = pageBy(reply, '/channels', await store.listChannelsPage(db(), at, limit + 1), limit, (last) => ({ after: last.id, after_time: last.created_at }));
    return Promise.all(page.map((c) => channelJson(c, originOf(req))));
  });
  app.get('/channels/:public_id', { schema: { params: ChannelParams } }, async (req) => channelJson(await mustChannel(req.params.public_id), originOf(req)));
  app.patch('/channels/:public_id', { schema: { params: ChannelParams, body: ChannelPatch } }, async (req) => {
    const channel = await mustChannel(req.params.public_id);
    const changes: Partial<store.ChannelRow> = {};
    if (req.body.name !== undefined) changes.name = req.body.name;
    if (req.body.search_id !== undefined) changes.search_id = req.body.search_id;
    if (req.body.profile_image_url !== undefined) changes.profile_image_url = req.body.profile_image_url;
    if (req.body.banned !== undefined) changes.banned = req.body.banned ? 1 : 0;
    // Deleted since it was looked up: the 404 of a call after the delete, not changes never stored.
    if (!(await uniquely('channel', () => store.updateChannel(db(), channel.id, changes)))) throw new ControlError(404, `channel ${req.params.public_id} not found`);
    return channelJson({ ...channel, ...changes }, originOf(req));
  });
  app.delete('/channels/:public_id', { config: NO_CONTENT, schema: { params: ChannelParams } }, async (req, reply) => {
    await store.deleteChannel(db(), (await mustChannel(req.params.public_id)).id);
    return reply.send();
  });

  app.put('/channels/:public_id/apps/:app_id', { schema: { params: ChannelAppParams } }, async (req) => {
    const lookUp = async () => [await mustChannel(req.params.public_id), await mustApp(db(), req.params.app_id)] as const;
    const [channel] = await lookUp();
    await asAfterDeletes(() => store.linkApp(db(), channel.id, req.params.app_id, app.platform.clock.now()), lookUp);
    return channelJson(channel, originOf(req));
  });
  app.delete('/channels/:public_id/apps/:app_id', { config: NO_CONTENT, schema: { params: ChannelAppParams } }, async (req, reply) => {
    const channel = await mustChannel(req.params.public_id);
    if (channel.owner_app_id === req.params.app_id) throw new ControlError(409, `app ${req.params.app_id} owns channel ${channel.public_id}: delete the channel instead`);
    if (!(await store.unlinkApp(db(), channel.id, req.params.app_id))) throw new ControlError(404, `channel ${channel.public_id} is not linked to app ${req.params.app_id}`);
    return reply.send();
  });

  /** By account id, a page at a time (`after`: the last account id of the page before). */
  app.get('/channels/:public_id/relations', { schema: { params: ChannelParams, querystring: Type.Object(ListQuery) } }, async (req, reply) => {
    const channel = await mustChannel(req.params.public_id);
    const limit = req.query.limit ?? LIST_PAGE;
    const rows = await store.relationsOfChannelPage(db(), channel.id, req.query.after, limit + 1);
    return pageBy(reply, `/channels/${encodeURIComponent(channel.public_id)}/relations`, rows, limit, (last) => ({ after: last.accountId })).map(relationRowJson);
  });
  app.get('/channels/:public_id/relations/:account_id', { schema: { params: ChannelAccountParams } }, async (req) => {
    const channel = await mustChannel(req.params.public_id);
    await mustAccount(db(), req.params.account_id);
    const row = await store.relationOf(db(), channel.id, req.params.account_id);
    return row ? relationRowJson(row) : { account_id: req.params.account_id, relation: 'NONE' };
  });
  app.put('/channels/:public_id/relations/:account_id', { schema: { params: ChannelAccountParams, body: RelationBody } }, async (req) => {
    const lookUp = async () => [await mustChannel(req.params.public_id), await mustAccount(db(), req.params.account_id)] as const;
    const [channel] = await lookUp();
    await asAfterDeletes(() => store.setRelation(db(), channel.id, req.params.account_id, req.body.relation, app.platform.clock.now()), lookUp);
    const row = await store.relationOf(db(), channel.id, req.params.account_id);
    // Gone since it was written (with the channel or the person): the 404 of a call after the delete.
    if (!row && req.body.relation !== 'NONE') await lookUp();
    return row ? relationRowJson(row) : { account_id: req.params.account_id, relation: 'NONE' };
  });

  app.get('/channels/:public_id/files', { schema: { params: ChannelParams, querystring: Type.Object({ users: Type.Optional(Type.Integer({ minimum: 0, maximum: 2000 })) }) } }, async (req) => {
    const channel = await mustChannel(req.params.public_id);
    const files = await filesJson(app.platform, channel);
    const limit = req.query.users ?? 100;
    return Promise.all(
      files.map(async (f) => ({
        ...f,
        users: (await store.fileUsers(db(), f.file_id, limit)).map((u) => ({ user_type: u.userType, id: u.userId, field: u.fields, updated_at: isoSeconds(u.updatedAt) })),
      })),
    );
  });
  app.get('/channels/:public_id/chats', { schema: { params: ChannelParams } }, async (req) => {
    const channel = await mustChannel(req.params.public_id);
    return (await store.chatMessages(db(), channel.id, undefined, 500)).map((m) => ({ id: m.id, account_id: m.accountId, text: m.text, created_at: isoSeconds(m.createdAt) }));
  });
}
