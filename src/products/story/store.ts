import { randomInt } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { DB } from '../../db/schema.js';
import type {
  StoriesTable,
  StoryImageFilesTable,
  StoryImagesTable,
  StoryProfilesTable,
} from './tables.js';

/** The Story repository: the only SQL of the product. */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function randomBase62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[randomInt(62)];
  return out;
}

function encodeBase62(value: number, width: number): string {
  let out = '';
  let v = value;
  while (v > 0) {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out.padStart(width, '0');
}

function decodeBase62(text: string): number | undefined {
  let v = 0;
  for (const ch of text) {
    const d = BASE62.indexOf(ch);
    if (d < 0) return undefined;
    v = v * 62 + d;
  }
  return v;
}

/** From 2100 on, `seq` counts half-milliseconds (below). */
const SEQ_COARSE_FROM_MS = Date.UTC(2100, 0, 1);

/**
 * Stories sort by `seq` (creation time, then a tiebreak), carried in the id (9 base-62
 * characters) and exact as a JavaScript number. Milliseconds × 2048 would pass 2^53 in
 * 2109, and the platform clock goes to 9999: from 2100 on each millisecond takes 2 steps
 * instead, which keeps the order and reaches 8.9 × 10^15 at the end of 9999.
 *
 * The tiebreak of a millisecond's first story is random in the lower half of its steps,
 * which keeps instances sharing a store apart; each later one this process stores within
 * that millisecond takes the next step (and a clock moved back starts afresh), so stories stored one after another keep their order
 * (a random tiebreak each listed two stories of one millisecond by a coin toss).
 */
export function newSeq(nowMs: number): number {
  const coarse = nowMs >= SEQ_COARSE_FROM_MS;
  const steps = coarse ? 2 : 2048;
  const first = coarse ? SEQ_COARSE_FROM_MS * 2048 + (nowMs - SEQ_COARSE_FROM_MS) * 2 : nowMs * 2048;
  // (From 2100 on, a millisecond's 2 steps are soon spent: the next ones are taken from the
  // milliseconds after it, up to a second's worth, which keeps the order just as well.)
  lastSeq = lastSeq >= first && lastSeq < first + 2048 ? lastSeq + 1 : first + randomInt(steps / 2);
  return lastSeq;
}

/** The last `seq` this process gave (newSeq). */
let lastSeq = 0;

/** The 11-character second half of a story id: 9 characters of `seq`, 2 random. */
export function activityId(seq: number): string {
  return encodeBase62(seq, 9) + randomBase62(2);
}

export interface ParsedStoryId {
  handle: string;
  activity: string;
  seq: number;
}

/** `AAAAAAA.BBBBBBBBBBB` → its parts; undefined when it is not shaped like a story id. */
export function parseStoryId(id: string): ParsedStoryId | undefined {
  const m = /^([0-9A-Za-z]{7})\.([0-9A-Za-z]{11})$/.exec(id);
  if (!m) return undefined;
  const seq = decodeBase62(m[2].slice(0, 9));
  if (seq === undefined || seq > Number.MAX_SAFE_INTEGER) return undefined;
  return { handle: m[1], activity: m[2], seq };
}

export type StoryProfileRow = Selectable<StoryProfilesTable>;
export type StoryRow = Selectable<StoriesTable>;
export type ImageRow = Selectable<StoryImagesTable>;
export type ImageFileRow = Selectable<StoryImageFilesTable>;

export async function findProfile(db: Kysely<DB>, accountId: number): Promise<StoryProfileRow | undefined> {
  return db.selectFrom('story_profiles').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

export async function findProfileByHandle(db: Kysely<DB>, handle: string): Promise<StoryProfileRow | undefined> {
  return db.selectFrom('story_profiles').selectAll().where('handle', '=', handle).executeTakeFirst();
}

/** The person's Story profile row, created on first use (safe against concurrent instances). */
export async function ensureProfile(db: Kysely<DB>, accountId: number, now: number): Promise<StoryProfileRow> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const found = await findProfile(db, accountId);
    if (found) return found;
    try {
      await db
        .insertInto('story_profiles')
        .values({ account_id: accountId, handle: randomBase62(7), nickname: null, profile_image_url: null, thumbnail_url: null, bg_image_url: null, created_at: now })
        .onConflict((oc) => oc.column('account_id').doNothing())
        .execute();
    } catch (err) {
      // A handle collision (unique violation on handle): try another one.
      if (!/unique|duplicate/i.test(String((err as Error).message))) throw err;
    }
  }
  throw new Error('could not allocate a Kakao Story handle');
}

export async function updateProfile(
  db: Kysely<DB>,
  accountId: number,
  values: Partial<Pick<StoryProfileRow, 'nickname' | 'profile_image_url' | 'thumbnail_url' | 'bg_image_url'>>,
): Promise<void> {
  if (Object.keys(values).length === 0) return;
  await db.updateTable('story_profiles').set(values).where('account_id', '=', accountId).execute();
}

// Stories

export async function insertStory(db: Kysely<DB>, row: StoryRow, mediaKeys: string[]): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.insertInto('stories').values(row).execute();
    for (const [position, image_key] of mediaKeys.entries()) {
      await tx.insertInto('story_media').values({ story_id: row.id, position, image_key }).execute();
    }
  });
}

export async function findStory(db: Kysely<DB>, id: string): Promise<StoryRow | undefined> {
  return db.selectFrom('stories').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Newest first; `before` pages past an earlier page's last story (deleted or not). Two
 * stories may share a `seq` (one millisecond, the same tiebreak): the id orders them, so
 * a page boundary between them skips neither.
 */
export async function listStories(
  db: Kysely<DB>,
  accountId: number,
  limit: number,
  before?: { seq: number; id: string },
  permission?: StoryRow['permission'],
): Promise<StoryRow[]> {
  let q = db.selectFrom('stories').selectAll().where('account_id', '=', accountId);
  if (permission !== undefined) q = q.where('permission', '=', permission);
  if (before !== undefined) {
    // (seq, id) < (…): one range of stories_account_seq (account_id, seq, id) on both stores.
    q = q.where((eb) => eb(eb.refTuple('seq', 'id'), '<', eb.tuple(before.seq, before.id)));
  }
  return q.orderBy('seq', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export interface MediaRow {
  story_id: string;
  position: number;
  key: string;
  ext: string;
  files: { variant: string; width: number; height: number }[];
}

/** The images of the given stories with each variant's size (not the bytes). */
export async function mediaOf(db: Kysely<DB>, storyIds: string[]): Promise<Map<string, MediaRow[]>> {
  const out = new Map<string, MediaRow[]>();
  if (storyIds.length === 0) return out;
  const rows = await db
    .selectFrom('story_media')
    .innerJoin('story_images', 'story_images.key', 'story_media.image_key')
    .innerJoin('story_image_files', 'story_image_files.image_key', 'story_media.image_key')
    .select([
      'story_media.story_id',
      'story_media.position',
      'story_images.key',
      'story_images.ext',
      'story_image_files.variant',
      'story_image_files.width',
      'story_image_files.height',
    ])
    .where('story_media.story_id', 'in', storyIds)
    .orderBy('story_media.story_id')
    .orderBy('story_media.position')
    .execute();
  for (const r of rows) {
    let list = out.get(r.story_id);
    if (!list) out.set(r.story_id, (list = []));
    let media = list.find((m) => m.position === r.position);
    if (!media) list.push((media = { story_id: r.story_id, position: r.position, key: r.key, ext: r.ext, files: [] }));
    media.files.push({ variant: r.variant, width: r.width, height: r.height });
  }
  return out;
}

export async function countsOf(db: Kysely<DB>, storyIds: string[]): Promise<Map<string, { comments: number; likes: number }>> {
  const out = new Map<string, { comments: number; likes: number }>();
  for (const id of storyIds) out.set(id, { comments: 0, likes: 0 });
  if (storyIds.length === 0) return out;
  const [comments, likes] = await Promise.all([
    db
      .selectFrom('story_comments')
      .select(['story_id', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('story_id', 'in', storyIds)
      .groupBy('story_id')
      .execute(),
    db
      .selectFrom('story_likes')
      .select(['story_id', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('story_id', 'in', storyIds)
      .groupBy('story_id')
      .execute(),
  ]);
  for (const c of comments) out.get(c.story_id)!.comments = Number(c.n);
  for (const l of likes) out.get(l.story_id)!.likes = Number(l.n);
  return out;
}

export interface ActorRow {
  account_id: number;
  nickname: string;
  story_nickname: string | null;
  thumbnail: string | null;
  story_thumbnail: string | null;
}

/** Rows of `rows` grouped by their story, each story's in the order read; every story has an entry. */
function byStory<T extends { story_id: string }>(storyIds: readonly string[], rows: T[]): Map<string, Omit<T, 'story_id'>[]> {
  const out = new Map<string, Omit<T, 'story_id'>[]>(storyIds.map((id) => [id, []]));
  for (const { story_id, ...rest } of rows) out.get(story_id)?.push(rest);
  return out;
}

/** The comments of the given stories with their writers, each story's oldest first: one statement for them all. */
export async function commentsOf(db: Kysely<DB>, storyIds: readonly string[]) {
  if (storyIds.length === 0) return byStory(storyIds, []);
  const rows = await db
    .selectFrom('story_comments')
    .innerJoin('accounts', 'accounts.id', 'story_comments.account_id')
    .leftJoin('story_profiles', 'story_profiles.account_id', 'story_comments.account_id')
    .select([
      'story_comments.story_id',
      'story_comments.id',
      'story_comments.text',
      'story_comments.created_at',
      'story_comments.account_id',
      'accounts.nickname',
      'accounts.thumbnail_image_url as thumbnail',
      'story_profiles.nickname as story_nickname',
      'story_profiles.thumbnail_url as story_thumbnail',
    ])
    .where('story_comments.story_id', 'in', storyIds)
    .orderBy('story_comments.story_id')
    .orderBy('story_comments.created_at')
    .orderBy('story_comments.id')
    .execute();
  return byStory(storyIds, rows);
}

/** The moods of the given stories with who left them, each story's oldest first: one statement for them all. */
export async function likesOf(db: Kysely<DB>, storyIds: readonly string[]) {
  if (storyIds.length === 0) return byStory(storyIds, []);
  const rows = await db
    .selectFrom('story_likes')
    .innerJoin('accounts', 'accounts.id', 'story_likes.account_id')
    .leftJoin('story_profiles', 'story_profiles.account_id', 'story_likes.account_id')
    .select([
      'story_likes.story_id',
      'story_likes.emotion',
      'story_likes.created_at',
      'story_likes.account_id',
      'accounts.nickname',
      'accounts.thumbnail_image_url as thumbnail',
      'story_profiles.nickname as story_nickname',
      'story_profiles.thumbnail_url as story_thumbnail',
    ])
    .where('story_likes.story_id', 'in', storyIds)
    .orderBy('story_likes.story_id')
    .orderBy('story_likes.created_at')
    .orderBy('story_likes.account_id')
    .execute();
  return byStory(storyIds, rows);
}

/**
 * Deletes a story with its comments, moods and media; an uploaded image goes with it unless
 * another story still shows it. Returns false when there was no such story.
 */
export async function deleteStory(db: Kysely<DB>, id: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const keys = (await tx.selectFrom('story_media').select('image_key').where('story_id', '=', id).execute()).map((r) => r.image_key);
    await tx.deleteFrom('story_comments').where('story_id', '=', id).execute();
    await tx.deleteFrom('story_likes').where('story_id', '=', id).execute();
    await tx.deleteFrom('story_media').where('story_id', '=', id).execute();
    const res = await tx.deleteFrom('stories').where('id', '=', id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) return false;
    await deleteUnusedImages(tx, keys);
    return true;
  });
}

async function deleteUnusedImages(tx: Transaction<DB>, keys: string[]): Promise<void> {
  for (const key of new Set(keys)) {
    const used = await tx.selectFrom('story_media').select('story_id').where('image_key', '=', key).executeTakeFirst();
    if (used) continue;
    await tx.deleteFrom('story_image_files').where('image_key', '=', key).execute();
    await tx.deleteFrom('story_images').where('key', '=', key).execute();
  }
}

// Comments and moods

export async function addComment(db: Kysely<DB>, storyId: string, accountId: number, text: string, id: number, now: number): Promise<void> {
  await db.insertInto('story_comments').values({ id, story_id: storyId, account_id: accountId, text, created_at: now }).execute();
}

export async function deleteComment(db: Kysely<DB>, storyId: string, commentId: number): Promise<boolean> {
  const res = await db.deleteFrom('story_comments').where('story_id', '=', storyId).where('id', '=', commentId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function setLike(db: Kysely<DB>, storyId: string, accountId: number, emotion: string, now: number): Promise<void> {
  await db
    .insertInto('story_likes')
    .values({ story_id: storyId, account_id: accountId, emotion, created_at: now })
    .onConflict((oc) => oc.columns(['story_id', 'account_id']).doUpdateSet({ emotion }))
    .execute();
}

export async function deleteLike(db: Kysely<DB>, storyId: string, accountId: number): Promise<boolean> {
  const res = await db.deleteFrom('story_likes').where('story_id', '=', storyId).where('account_id', '=', accountId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

// Images

export interface NewImageFile {
  variant: string;
  contentType: string;
  width: number;
  height: number;
  bytes: Buffer;
}

export async function insertImages(
  db: Kysely<DB>,
  images: { row: ImageRow; files: NewImageFile[] }[],
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    for (const { row, files } of images) {
      await tx.insertInto('story_images').values(row).execute();
      for (const f of files) {
        await tx
          .insertInto('story_image_files')
          .values({ image_key: row.key, variant: f.variant, content_type: f.contentType, width: f.width, height: f.height, bytes: f.bytes })
          .execute();
      }
    }
  });
}

export async function findImages(db: Kysely<DB>, keys: string[]): Promise<ImageRow[]> {
  if (keys.length === 0) return [];
  return db.selectFrom('story_images').selectAll().where('key', 'in', keys).execute();
}

export async function findImageFile(db: Kysely<DB>, key: string, variant: string): Promise<(ImageFileRow & { ext: string }) | undefined> {
  return db
    .selectFrom('story_image_files')
    .innerJoin('story_images', 'story_images.key', 'story_image_files.image_key')
    .selectAll('story_image_files')
    .select('story_images.ext')
    .where('story_image_files.image_key', '=', key)
    .where('story_image_files.variant', '=', variant)
    .executeTakeFirst();
}

// Scraps

export async function saveScrap(db: Kysely<DB>, appId: number, accountId: number, requestedUrl: string, url: string, info: string, now: number): Promise<void> {
  await db
    .insertInto('story_scraps')
    .values({ app_id: appId, account_id: accountId, requested_url: requestedUrl, url, info, created_at: now })
    .onConflict((oc) => oc.columns(['app_id', 'account_id', 'requested_url']).doUpdateSet({ url, info, created_at: now }))
    .execute();
}

export async function findScraps(db: Kysely<DB>, appId: number, accountId: number, url: string) {
  return db
    .selectFrom('story_scraps')
    .selectAll()
    .where('app_id', '=', appId)
    .where('account_id', '=', accountId)
    .where('url', '=', url)
    .orderBy('created_at', 'desc')
    .execute();
}
