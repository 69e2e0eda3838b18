import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ADMIN_ONLY, requireAppKey, requireUser } from '../../core/auth.js';
import { params } from '../../core/params.js';
import { originOf } from '../../core/platform.js';
import { friendLanguage } from './collation.js';
import { KeptAnswers } from '../../core/kept-answers.js';
import { friendsList, requireTalkScopes, talkProfileWithCountry, talkProfiles } from './operations.js';

/** Kakao Talk Social (seed 003): profile, friends, profiles by user list. */

const Bool = Type.Union([Type.Boolean(), Type.String()]);

const ProfileQuery = Type.Object({ secure_resource: Type.Optional(Bool) });

const FriendsQuery = Type.Object({
  offset: Type.Optional(Type.Integer()),
  limit: Type.Optional(Type.Integer()),
  order: Type.Optional(Type.String()),
  friend_order: Type.Optional(Type.String()),
  secure_resource: Type.Optional(Bool),
});

const ProfilesQuery = Type.Object({
  target_ids: Type.String(),
  target_id_type: Type.String(),
  viewer_id: Type.Optional(Type.Integer()),
  viewer_id_type: Type.Optional(Type.String()),
});

// Response schemas: serialization by schema, and a declared shape for every 200.
const Opt = Type.Optional;
const TalkProfileResponse = Type.Object({
  id: Opt(Type.Integer()),
  nickName: Opt(Type.String()),
  profileImageURL: Opt(Type.String()),
  thumbnailURL: Opt(Type.String()),
  countryISO: Opt(Type.String()),
});
const FriendsResponse = Type.Object({
  elements: Type.Array(
    Type.Object({
      profile_nickname: Type.String(),
      profile_thumbnail_image: Type.String(),
      id: Type.Integer(),
      uuid: Type.String(),
      favorite: Type.Boolean(),
    }),
  ),
  total_count: Type.Integer(),
  before_url: Opt(Type.String()),
  after_url: Opt(Type.String()),
  favorite_count: Type.Integer(),
});
const ProfileInfo = Type.Object({
  user_id: Type.Integer(),
  nickname: Opt(Type.String()),
  profile_image_url: Opt(Type.String()),
  thumbnail_image_url: Opt(Type.String()),
});
const ProfilesResponse = Type.Object({ viewer: Opt(ProfileInfo), targets: Type.Array(ProfileInfo) });

export function isTrue(value: boolean | string | undefined): boolean {
  return value === true || value === 'true';
}

export default async function talkRoutes(app: FastifyInstance): Promise<void> {
  app.get('/v1/api/talk/profile', { schema: { response: { 200: TalkProfileResponse } } }, async (req) => {
    const ctx = await requireUser(req);
    // secure_resource is accepted (clients send it) and changes nothing: images are https.
    params(req, ProfileQuery);
    return talkProfileWithCountry(req.server.platform, ctx, originOf(req));
  });

  // A friends page depends on the credential, the URL, the language (KA), the origin
  // (paging URLs) and the database.
  const friendPages = new KeptAnswers();
  app.get('/v1/api/talk/friends', { schema: { response: { 200: FriendsResponse } } }, async (req, reply) => {
    const language = friendLanguage(req.headers.ka);
    const origin = originOf(req);
    const baseUrl = `${origin}/v1/api/talk/friends`;
    return friendPages.serve(req, reply, `${language} ${baseUrl}`, async () => {
      const ctx = await requireUser(req);
      requireTalkScopes(ctx, 'FRIENDS', ['friends']);
      const input = params(req, FriendsQuery);
      const payload = await friendsList(req.server.platform, ctx, {
        offset: input.offset,
        limit: input.limit,
        order: input.order,
        friendOrder: input.friend_order,
        secure: isTrue(input.secure_resource),
        language,
        origin,
        baseUrl,
      });
      return { payload, validUntil: ctx.tokenExpiresAt };
    });
  });

  const profiles = async (req: FastifyRequest) => {
    const { app: target } = await requireAppKey(req, ADMIN_ONLY);
    const input = params(req, ProfilesQuery);
    const query = { targetIds: input.target_ids, targetIdType: input.target_id_type, viewerId: input.viewer_id, viewerIdType: input.viewer_id_type };
    return talkProfiles(req.server.platform, target, query, originOf(req));
  };
  app.get('/v2/api/talk/profiles', { schema: { response: { 200: ProfilesResponse } } }, profiles);
  app.post('/v2/api/talk/profiles', { schema: { response: { 200: ProfilesResponse } } }, profiles);
}
