/** Tables of the Story product (see src/db/schema.ts for the shared conventions). */
import type { TableSpec } from '../../db/tables.js';
import type { Bool } from '../../db/schema.js';

/** A person's Kakao Story identity: the handle in story ids and URLs, and Story-only profile values. */
export interface StoryProfilesTable {
  account_id: number;
  /** The 7-character first half of every story id (`AAAAAAA.BBBBBBBBBBB`) and of the permalink. */
  handle: string;
  /** Story-specific overrides; null falls back to the account's own profile. */
  nickname: string | null;
  profile_image_url: string | null;
  thumbnail_url: string | null;
  bg_image_url: string | null;
  created_at: number;
}

/** One story. `id` is the public `handle.activity` id. */
export interface StoriesTable {
  id: string;
  account_id: number;
  /** The app that posted it (null: posted through the control plane, as if in the Story app). */
  app_id: number | null;
  /** Ordering key: created_at * 2048 + random, encoded into the activity id so `last_id` pages without a lookup. */
  seq: number;
  media_type: 'NOTE' | 'PHOTO' | 'NOT_SUPPORTED';
  content: string;
  permission: 'PUBLIC' | 'FRIEND' | 'ONLY_ME';
  enable_share: Bool;
  android_exec_param: string | null;
  ios_exec_param: string | null;
  android_market_param: string | null;
  ios_market_param: string | null;
  /** JSON LinkInfo of a link story. */
  link_info: string | null;
  created_at: number;
}

/** An uploaded image (one upload/multi file), addressed by `/dn/<key>/img.<ext>`. */
export interface StoryImagesTable {
  /** `a/b/c`: the three path segments. */
  key: string;
  /** The uploading app (null once that app is deleted: its uploads can no longer be posted). */
  app_id: number | null;
  account_id: number;
  /** Extension of the original: jpg, png, gif, webp. */
  ext: string;
  width: number;
  height: number;
  created_at: number;
}

/** The bytes of an image and of its size variants, kept in the database so every instance serves them. */
export interface StoryImageFilesTable {
  image_key: string;
  /** original, xlarge, large, medium, small */
  variant: string;
  content_type: string;
  width: number;
  height: number;
  bytes: Buffer;
}

/** The images of a photo story, in order. */
export interface StoryMediaTable {
  story_id: string;
  position: number;
  image_key: string;
}

export interface StoryCommentsTable {
  id: number;
  story_id: string;
  account_id: number;
  text: string;
  created_at: number;
}

/** One mood per person per story. */
export interface StoryLikesTable {
  story_id: string;
  account_id: number;
  emotion: string;
  created_at: number;
}

/** Pages scraped through /v1/api/story/linkinfo: a link story may only carry one of these. */
export interface StoryScrapsTable {
  app_id: number;
  account_id: number;
  requested_url: string;
  url: string;
  /** JSON LinkInfo as returned. */
  info: string;
  created_at: number;
}

export interface StoryTables {
  story_profiles: StoryProfilesTable;
  stories: StoriesTable;
  story_images: StoryImagesTable;
  story_image_files: StoryImageFilesTable;
  story_media: StoryMediaTable;
  story_comments: StoryCommentsTable;
  story_likes: StoryLikesTable;
  story_scraps: StoryScrapsTable;
}

declare module '../../db/schema.js' {
  interface DB extends StoryTables {}
}

/** This product's tables in export/import/reset order (parents first). */
export const storyTables: TableSpec[] = [
  { name: 'story_profiles', json: [] },
  { name: 'stories', json: ['link_info'] },
  { name: 'story_images', json: [] },
  { name: 'story_image_files', json: [], binary: ['bytes'] },
  { name: 'story_media', json: [] },
  { name: 'story_comments', json: [] },
  { name: 'story_likes', json: [] },
  { name: 'story_scraps', json: ['info'] },
];
