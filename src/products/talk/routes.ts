import { Type } from '@sinclair/typebox';
import { ADMIN_ONLY } from '../../core/auth.js';
import { route } from '../../core/route.js';
import { friendLanguage } from './collation.js';
import { friendsList, talkProfileWithCountry, talkProfiles } from './operations.js';

/** Kakao Talk Social (seed 003): profile, friends, profiles by user list. */

const Bool = Type.Union([Type.Boolean(), Type.String()]);

const ProfileQuery = Type.Object({ secure_resource: Type.Optional(Bool) });

const FriendsQuery = Type.Object({
  offset: Type.Optional(Type.Integer({ maximum: Number.MAX_SAFE_INTEGER })),
  limit: Type.Optional(Type.Integer()),
  order: Type.Optional(Type.String()),
  friend_order: Type.Optional(Type.String()),
  secure_resource: Type.Optional(Bool),
});

const ProfilesQuery = Type.Object({
  target_ids: Type.String(),
  target_id_type: Type.String(),
  viewer_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
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

function isTrue(value: boolean | string | undefined): boolean {
  return value === true || value === 'true';
}

const friendsUrl = (origin: string) => `${origin}/v1/api/talk/friends`;

export const talkRoutes = [
  route({
    method: 'GET',
    url: '/v1/api/talk/profile',
    auth: 'user',
    params: ProfileQuery,
    response: TalkProfileResponse,
    // secure_resource is accepted (clients send it) and changes nothing: images are https.
    handler: (call) => talkProfileWithCountry(call.platform, call, call.origin),
  }),
  // A friends page depends on the credential, the URL, the language (KA), the origin
  // (paging URLs) and the database.
  route({
    method: 'GET',
    url: '/v1/api/talk/friends',
    auth: 'user',
    apiType: 'FRIENDS',
    scopes: ['friends'],
    params: FriendsQuery,
    response: FriendsResponse,
    keep: { varies: (call) => `${friendLanguage(call.ka)} ${friendsUrl(call.origin)}`, validUntil: (call) => call.tokenExpiresAt },
    handler: (call, input) =>
      friendsList(call.platform, call, {
        offset: input.offset,
        limit: input.limit,
        order: input.order,
        friendOrder: input.friend_order,
        secure: isTrue(input.secure_resource),
        language: friendLanguage(call.ka),
        origin: call.origin,
        baseUrl: friendsUrl(call.origin),
      }),
  }),
  route({
    method: ['GET', 'POST'],
    url: '/v2/api/talk/profiles',
    auth: 'app-key',
    keys: ADMIN_ONLY,
    params: ProfilesQuery,
    response: ProfilesResponse,
    handler: (call, input) =>
      talkProfiles(
        call.platform,
        call.app,
        { targetIds: input.target_ids, targetIdType: input.target_id_type, viewerId: input.viewer_id, viewerIdType: input.viewer_id_type },
        call.origin,
      ),
  }),
];
