/**
 * Tables of Kakao Talk: settings, multi-profiles and the materialized friends lists.
 * See src/db/schema.ts for the shared conventions.
 */
import type { Bool } from '../../db/schema.js';
import type { TableSpec } from '../../db/tables.js';

/** A person's Kakao Talk settings (absent row: defaults). */
export interface TalkSettingsTable {
  account_id: number;
  /** The person refuses messages sent by apps (-530). */
  messages_blocked: Bool;
  /** `countryISO` of the older Talk profile (seed 001); null: not reported. */
  country_iso: string | null;
}

/** A multi-profile: another nickname/picture a person shows to specific friends. */
export interface TalkMultiProfilesTable {
  id: number;
  account_id: number;
  nickname: string;
  profile_image_url: string | null;
  thumbnail_image_url: string | null;
  created_at: number;
}

/** Which multi-profile `account_id` shows to `viewer_account_id` (at most one). */
export interface TalkProfileViewersTable {
  account_id: number;
  viewer_account_id: number;
  profile_id: number;
}

/**
 * The friends list an app sees for a person, materialized with collation sort keys so that
 * `/v1/api/talk/friends` is one index range scan. Derived data: rebuilt from friendships,
 * links and profiles whenever `talk_stale_viewers` says the person's inputs changed.
 */
export interface TalkAppFriendsTable {
  app_id: number;
  account_id: number;
  friend_account_id: number;
  favorite: Bool;
  /** Collation key, Korean order (Korean, special, numbers, English, Japanese, emoji). */
  sort_ko: string;
  /** Collation key, English order (special, numbers, English, Japanese, Korean, emoji). */
  sort_en: string;
  /** Position (0-based) in the whole list in ascending Korean / English order. */
  pos_ko: number;
  pos_en: number;
  /** Position within this row's segment (favorites, or the others), same orders. */
  fav_pos_ko: number;
  fav_pos_en: number;
  user_id: number;
  uuid: string;
  nickname: string;
  thumbnail_image_url: string | null;
}

/** Counts of a materialized friends list (its presence means the list is built). */
export interface TalkFriendListsTable {
  app_id: number;
  account_id: number;
  total_count: number;
  favorite_count: number;
}

/** People whose materialized friends lists are out of date (maintained by triggers). */
export interface TalkStaleViewersTable {
  account_id: number;
  gen: number;
}

export interface TalkTables {
  talk_settings: TalkSettingsTable;
  talk_multi_profiles: TalkMultiProfilesTable;
  talk_profile_viewers: TalkProfileViewersTable;
  talk_app_friends: TalkAppFriendsTable;
  talk_friend_lists: TalkFriendListsTable;
  talk_stale_viewers: TalkStaleViewersTable;
}

declare module '../../db/schema.js' {
  interface DB extends TalkTables {}
}

/**
 * This product's tables in export/import/reset order (parents first). The materialized
 * friends lists are derived data and are not exported; they follow accounts and apps by
 * cascade and are rebuilt on demand.
 */
export const talkTables: TableSpec[] = [
  { name: 'talk_settings', json: [] },
  { name: 'talk_multi_profiles', json: [] },
  { name: 'talk_profile_viewers', json: [] },
];
