import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { mustAccount } from '../../control/lookups.js';
import { asAfterDeletes } from '../../db/dialect.js';
import { findAccountById } from '../../store/accounts.js';
import { ControlError } from '../../core/errors.js';
import { isoSeconds } from '../../core/clock.js';
import { Id, LIMITS as L, Text } from '../../control/limits.js';
import { CREATED, NO_CONTENT } from '../../core/http.js';
import {
  type MultiProfile,
  deleteMultiProfile,
  findMultiProfile,
  getTalkSettings,
  listMultiProfiles,
  saveMultiProfile,
  saveTalkSettings,
} from './store.js';

/**
 * Talk control-plane routes, mounted under /_kapibara/v1 (operator token checked there):
 * a person's Talk settings (messages blocked, countryISO) and multi-profiles.
 */

const AccountParams = Type.Object({ account_id: Id });
const ProfileParams = Type.Object({ account_id: Id, profile_id: Id });
const OptUrl = Type.Optional(Type.Union([Text(L.url), Type.Null()]));

export const SettingsBody = Type.Object(
  {
    messages_blocked: Type.Optional(Type.Boolean()),
    country_iso: Type.Optional(Type.Union([Type.String({ pattern: '^[A-Z]{2}$' }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const ProfileBody = Type.Object(
  {
    nickname: Type.Optional(Text(L.nickname, 1)),
    profile_image_url: OptUrl,
    thumbnail_image_url: OptUrl,
    shown_to: Type.Optional(Type.Array(Id, { maxItems: L.viewers })),
  },
  { additionalProperties: false },
);

export function multiProfileJson(p: MultiProfile) {
  return {
    id: p.id,
    account_id: p.accountId,
    nickname: p.nickname,
    profile_image_url: p.profileImageUrl,
    thumbnail_image_url: p.thumbnailImageUrl,
    shown_to: p.shownTo,
    created_at: isoSeconds(p.createdAt),
  };
}

export default async function talkControlRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();


  async function talkJson(accountId: number) {
    const settings = await getTalkSettings(app.platform.db, accountId);
    return {
      account_id: accountId,
      messages_blocked: settings.messagesBlocked,
      country_iso: settings.countryIso,
      multi_profiles: (await listMultiProfiles(app.platform.db, accountId)).map(multiProfileJson),
    };
  }

  app.get('/accounts/:account_id/talk', { schema: { params: AccountParams } }, async (req) => {
    await mustAccount(app.platform.db, req.params.account_id);
    return talkJson(req.params.account_id);
  });

  const updateSettings = async (req: { params: { account_id: number }; body: { messages_blocked?: boolean; country_iso?: string | null } }) => {
    await mustAccount(app.platform.db, req.params.account_id);
    const current = await getTalkSettings(app.platform.db, req.params.account_id);
    const settings = {
      messagesBlocked: req.body.messages_blocked ?? current.messagesBlocked,
      countryIso: req.body.country_iso !== undefined ? req.body.country_iso : current.countryIso,
    };
    await asAfterDeletes(() => saveTalkSettings(app.platform.db, req.params.account_id, settings), () => mustAccount(app.platform.db, req.params.account_id));
    return talkJson(req.params.account_id);
  };
  app.put('/accounts/:account_id/talk', { schema: { params: AccountParams, body: SettingsBody } }, updateSettings);
  app.patch('/accounts/:account_id/talk', { schema: { params: AccountParams, body: SettingsBody } }, updateSettings);

  async function checkViewers(owner: number, viewers: number[] | undefined): Promise<void> {
    for (const v of viewers ?? []) {
      if (v === owner) throw new ControlError(400, 'a person does not show a multi-profile to themselves');
      if (!(await findAccountById(app.platform.db, v))) throw new ControlError(400, `shown_to: account ${v} not found`);
    }
  }

  /** A multi-profile as just saved; deleted since (with its owner or alone), the 404 of a call after the delete. */
  async function savedProfile(owner: number, id: number, lookUp: () => Promise<unknown>) {
    const found = await findMultiProfile(app.platform.db, owner, id);
    if (found) return found;
    await lookUp();
    throw new ControlError(404, `multi-profile ${id} of account ${owner} not found`);
  }

  app.get('/accounts/:account_id/talk/profiles', { schema: { params: AccountParams } }, async (req) => {
    await mustAccount(app.platform.db, req.params.account_id);
    return (await listMultiProfiles(app.platform.db, req.params.account_id)).map(multiProfileJson);
  });

  app.post('/accounts/:account_id/talk/profiles', { config: CREATED, schema: { params: AccountParams, body: ProfileBody } }, async (req) => {
    const owner = req.params.account_id;
    const lookUp = async () => {
      await mustAccount(app.platform.db, owner);
      await checkViewers(owner, req.body.shown_to);
    };
    await mustAccount(app.platform.db, owner);
    const nickname = req.body.nickname;
    if (!nickname) throw new ControlError(400, 'nickname is required');
    await checkViewers(owner, req.body.shown_to);
    const input = { nickname, profileImageUrl: req.body.profile_image_url, thumbnailImageUrl: req.body.thumbnail_image_url, shownTo: req.body.shown_to ?? [] };
    const id = await asAfterDeletes(() => saveMultiProfile(app.platform.db, owner, undefined, input, app.platform.clock.now()), lookUp);
    return multiProfileJson(await savedProfile(owner, id, lookUp));
  });

  app.patch('/accounts/:account_id/talk/profiles/:profile_id', { schema: { params: ProfileParams, body: ProfileBody } }, async (req) => {
    const { account_id: owner, profile_id: id } = req.params;
    const lookUp = async () => {
      if (!(await findMultiProfile(app.platform.db, owner, id))) throw new ControlError(404, `multi-profile ${id} of account ${owner} not found`);
      await checkViewers(owner, req.body.shown_to);
    };
    await lookUp();
    const input = { nickname: req.body.nickname, profileImageUrl: req.body.profile_image_url, thumbnailImageUrl: req.body.thumbnail_image_url, shownTo: req.body.shown_to };
    await asAfterDeletes(() => saveMultiProfile(app.platform.db, owner, id, input, app.platform.clock.now()), lookUp);
    return multiProfileJson(await savedProfile(owner, id, lookUp));
  });

  app.delete('/accounts/:account_id/talk/profiles/:profile_id', { config: NO_CONTENT, schema: { params: ProfileParams } }, async (req, reply) => {
    const { account_id: owner, profile_id: id } = req.params;
    if (!(await deleteMultiProfile(app.platform.db, owner, id))) throw new ControlError(404, `multi-profile ${id} of account ${owner} not found`);
    return reply.send();
  });
}
