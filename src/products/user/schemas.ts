import { Type } from '@sinclair/typebox';

/**
 * Response schemas of the user objects: Fastify compiles them once into serializers for
 * the hot path. Every field `userJson` can produce is listed; `additionalProperties`
 * stays open so a field added later is still sent rather than silently dropped.
 */
const Bool = Type.Boolean();
const Str = Type.String();
const Opt = Type.Optional;

const Profile = Type.Object(
  {
    nickname: Opt(Str),
    thumbnail_image_url: Opt(Str),
    profile_image_url: Opt(Str),
    is_default_image: Opt(Bool),
    is_default_nickname: Opt(Bool),
  },
  { additionalProperties: true },
);

const KakaoAccount = Type.Object(
  {
    profile_needs_agreement: Opt(Bool),
    profile_nickname_needs_agreement: Opt(Bool),
    profile_image_needs_agreement: Opt(Bool),
    profile: Opt(Profile),
    name_needs_agreement: Opt(Bool),
    name: Opt(Str),
    email_needs_agreement: Opt(Bool),
    is_email_valid: Opt(Bool),
    is_email_verified: Opt(Bool),
    email: Opt(Str),
    age_range_needs_agreement: Opt(Bool),
    age_range: Opt(Str),
    birthyear_needs_agreement: Opt(Bool),
    birthyear: Opt(Str),
    birthday_needs_agreement: Opt(Bool),
    birthday: Opt(Str),
    birthday_type: Opt(Str),
    is_leap_month: Opt(Bool),
    gender_needs_agreement: Opt(Bool),
    gender: Opt(Str),
    phone_number_needs_agreement: Opt(Bool),
    phone_number: Opt(Str),
    is_korean_needs_agreement: Opt(Bool),
    is_korean: Opt(Bool),
  },
  { additionalProperties: true },
);

export const userResponseSchema = Type.Object(
  {
    id: Type.Integer(),
    has_signed_up: Opt(Bool),
    connected_at: Opt(Str),
    synched_at: Opt(Str),
    properties: Opt(Type.Record(Type.String(), Type.String())),
    kakao_account: Opt(KakaoAccount),
  },
  { additionalProperties: true },
);

export const userListResponseSchema = Type.Array(userResponseSchema);
