import { Type } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { KakaoApiError, invalidParam } from '../../core/errors.js';
import { isoSeconds } from '../../core/clock.js';
import { hasScope } from '../../core/scopes.js';
import { requireScopes, type UserCall } from '../../core/auth.js';
import type { Platform } from '../../core/platform.js';
import type { Account } from '../../store/accounts.js';
import type { App } from '../../core/model.js';
import { readOpenGraph, scrapForApp } from '../../core/fetcher.js';
import { jsonParam } from '../../core/params.js';
import { urlForClient } from '../../core/own-urls.js';
import { jsonTextProblem } from '../../core/json.js';
import * as store from './store.js';
import { areFriends } from '../../store/friendships.js';
import { MAX_IMAGES, VARIANTS, isGif, processImage, tooManyImages, type ReceivedFile } from './images.js';
import { newId } from '../../db/ids.js';

/** The Kakao Story operations: `(platform, context, input) → result`, no HTTP in here. */

export const MAX_CONTENT_CHARS = 2048;
export const STORIES_PAGE_SIZE = 18;
export const EMOTIONS = ['LIKE', 'COOL', 'HAPPY', 'SAD', 'CHEER_UP', 'NOT_DEFINED'] as const;
export type Emotion = (typeof EMOTIONS)[number];

const PERMISSIONS = { A: 'PUBLIC', F: 'FRIEND', M: 'ONLY_ME' } as const;
export type Permission = (typeof PERMISSIONS)[keyof typeof PERMISSIONS];

export function notStoryUser(): KakaoApiError {
  return new KakaoApiError(-601, 'NotExistStoryUserException', 400);
}

export function storyNotFound(): KakaoApiError {
  return new KakaoApiError(-605, 'story does not exist.', 400);
}

function requireStoryUser(account: Account): void {
  if (!account.storyUser) throw notStoryUser();
}

// Profile

export function isStoryUser(ctx: UserCall): { isStoryUser: boolean } {
  return { isStoryUser: ctx.account.storyUser };
}

export interface StoryProfileJson {
  nickName?: string;
  profileImageURL?: string;
  thumbnailURL?: string;
  bgImageURL?: string;
  permalink?: string;
  birthday?: string;
  birthdayType?: string;
}

/** Each field only with its consent item, as the seed's samples show (`{}` with none). */
export async function storyProfile(ctx: UserCall): Promise<StoryProfileJson> {
  const { account, link } = ctx;
  requireStoryUser(account);
  const { db, clock } = ctx.platform;
  const profile = await store.ensureProfile(db, account.id, clock.now());
  const out: StoryProfileJson = {};
  if (hasScope(link.scopes, 'profile_nickname')) out.nickName = profile.nickname ?? account.nickname;
  if (hasScope(link.scopes, 'profile_image')) {
    const image = profile.profile_image_url ?? account.profileImageUrl;
    const thumbnail = profile.thumbnail_url ?? account.thumbnailImageUrl;
    if (image) out.profileImageURL = urlForClient(image, ctx.origin);
    if (thumbnail) out.thumbnailURL = urlForClient(thumbnail, ctx.origin);
    if (profile.bg_image_url) out.bgImageURL = urlForClient(profile.bg_image_url, ctx.origin);
  }
  if (hasScope(link.scopes, 'story_permalink')) out.permalink = permalink(ctx.origin, profile.handle);
  if (hasScope(link.scopes, 'birthday') && account.birthday) {
    out.birthday = account.birthday;
    if (account.birthdayType) out.birthdayType = account.birthdayType;
  }
  return out;
}

export function permalink(origin: string, handle: string): string {
  return `${origin}/story/${handle}`;
}

// Posting

export type StoryKind = 'note' | 'photo' | 'link';

export interface PostInput {
  content?: string;
  permission?: string;
  enable_share?: boolean;
  android_exec_param?: string;
  ios_exec_param?: string;
  android_market_param?: string;
  ios_market_param?: string;
  image_url_list?: string | string[];
  link_info?: string;
}

const API_TYPES: Record<StoryKind, string> = { note: 'STORY_POST_NOTE', photo: 'STORY_POST_PHOTO', link: 'STORY_POST_LINK' };

export async function postStory(ctx: UserCall, kind: StoryKind, input: PostInput): Promise<{ id: string }> {
  requireScopes(ctx, API_TYPES[kind], ['story_publish']);
  requireStoryUser(ctx.account);
  const { db, clock } = ctx.platform;
  const permission = readPermission(input.permission);
  const content = input.content ?? '';
  if (kind === 'note' && content.trim() === '') throw invalidParam('content is required.');
  if ([...content].length > MAX_CONTENT_CHARS) {
    throw invalidParam(`content is too long: up to ${MAX_CONTENT_CHARS} characters are allowed.`);
  }
  const mediaKeys = kind === 'photo' ? await uploadedImages(ctx, input.image_url_list) : [];
  const linkInfo = kind === 'link' ? await scrapedLinkInfo(ctx, input.link_info) : undefined;

  return insertPost(ctx.platform, ctx.account.id, ctx.app.id, kind, { ...input, content, permission }, mediaKeys, linkInfo);
}

/** Stores a new story of `accountId` posted through `appId` (a fresh id, retried on a clash). */
async function insertPost(
  platform: Platform,
  accountId: number,
  appId: number,
  kind: StoryKind,
  input: Omit<PostInput, 'permission' | 'content'> & { content: string; permission: Permission },
  mediaKeys: string[],
  linkInfo: LinkInfo | undefined,
): Promise<{ id: string }> {
  const { db, clock } = platform;
  const { content, permission } = input;
  const now = clock.now();
  const profile = await store.ensureProfile(db, accountId, now);
  for (let attempt = 0; ; attempt++) {
    const seq = store.newSeq(now);
    const id = `${profile.handle}.${store.activityId(seq)}`;
    try {
      await store.insertStory(
        db,
        {
          id,
          account_id: accountId,
          app_id: appId,
          seq,
          media_type: kind === 'note' ? 'NOTE' : kind === 'photo' ? 'PHOTO' : 'NOT_SUPPORTED',
          content,
          permission,
          enable_share: input.enable_share ? 1 : 0,
          android_exec_param: input.android_exec_param ?? null,
          ios_exec_param: input.ios_exec_param ?? null,
          android_market_param: input.android_market_param ?? null,
          ios_market_param: input.ios_market_param ?? null,
          link_info: linkInfo ? JSON.stringify(linkInfo) : null,
          created_at: now,
        },
        mediaKeys,
      );
      return { id };
    } catch (err) {
      const msg = String((err as Error).message);
      if (attempt < 3 && /unique|duplicate/i.test(msg)) continue;
      // An image deleted (with its story) between our check and the insert.
      if (/foreign key/i.test(msg) && mediaKeys.length > 0) {
        throw invalidParam('invalid image_url_list: an image was deleted while the story was being posted.');
      }
      throw err;
    }
  }
}

function readPermission(value: string | undefined): Permission {
  if (value === undefined) return 'PUBLIC';
  const p = PERMISSIONS[value as keyof typeof PERMISSIONS];
  if (!p) throw invalidParam(`invalid permission: ${value} (one of F, A, M).`);
  return p;
}

/**
 * `image_url_list` as clients send it: a JSON array, the seed's single-quoted array
 * (`['/a/b/img.jpg?width=1&height=1']`), or repeated / comma-separated values.
 */
export function readUrlList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const raw of parts) {
    const text = raw.trim();
    if (text === '' || text === 'null') continue;
    if (text.startsWith('[')) {
      const problem = jsonTextProblem(text);
      if (problem) throw invalidParam(`invalid image_url_list: ${problem}.`);
      try {
        const parsed = JSON.parse(text);
        if (!Array.isArray(parsed) || parsed.some((v) => typeof v !== 'string')) throw new Error('not an array of strings');
        out.push(...parsed);
        continue;
      } catch {
        const single = /^\[\s*('[^']*'\s*(,\s*'[^']*'\s*)*)?\]$/.exec(text);
        if (!single) throw invalidParam('invalid image_url_list: not a JSON array of uploaded image paths.');
        for (const m of text.matchAll(/'([^']*)'/g)) out.push(m[1]);
        continue;
      }
    }
    for (const piece of text.split(',')) if (piece.trim()) out.push(piece.trim());
  }
  return out;
}

const UPLOAD_PATH = /^\/dn\/([0-9A-Za-z]+\/[0-9A-Za-z]+\/[0-9A-Za-z]+)\/img\.(jpg|png|gif|webp)$/;

/** Only paths this person uploaded through this app, exactly as upload/multi returned them. */
async function uploadedImages(ctx: UserCall, value: string | string[] | undefined): Promise<string[]> {
  const list = readUrlList(value);
  if (!list || list.length === 0) throw invalidParam('image_url_list is required.');
  if (list.length > MAX_IMAGES) throw tooManyImages(`too many images. up to ${MAX_IMAGES} images can be posted in a story.`);
  const wanted: { key: string; ext: string; width?: string; height?: string; text: string }[] = [];
  for (const text of list) {
    let url: URL;
    try {
      url = new URL(text, 'http://kapibara.invalid');
    } catch {
      throw invalidParam(`invalid image_url_list: ${text} is not an uploaded image path.`);
    }
    const m = UPLOAD_PATH.exec(url.pathname);
    if (!m) throw invalidParam(`invalid image_url_list: ${text} is not a path returned by /v1/api/story/upload/multi.`);
    wanted.push({ key: m[1], ext: m[2], width: url.searchParams.get('width') ?? undefined, height: url.searchParams.get('height') ?? undefined, text });
  }
  const found = new Map((await store.findImages(ctx.platform.db, wanted.map((w) => w.key))).map((r) => [r.key, r]));
  for (const w of wanted) {
    const image = found.get(w.key);
    const mine = image && image.app_id === ctx.app.id && image.account_id === ctx.account.id && image.ext === w.ext;
    const sameSize = image && (w.width === undefined || w.width === String(image.width)) && (w.height === undefined || w.height === String(image.height));
    if (!mine || !sameSize) {
      throw invalidParam(`invalid image_url_list: ${w.text} is not an image this user uploaded (or it was deleted).`);
    }
  }
  return wanted.map((w) => w.key);
}

// Link info

export interface LinkInfo {
  url: string;
  requested_url: string;
  host: string;
  title: string;
  image: string[];
  description: string;
  section: string;
  type: string;
}

const LinkInfoParam = Type.Object({
  url: Type.String({ minLength: 1 }),
  requested_url: Type.Optional(Type.String()),
  host: Type.Optional(Type.String()),
  title: Type.Optional(Type.String()),
  image: Type.Optional(Type.Array(Type.String())),
  description: Type.Optional(Type.String()),
  section: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
});

/**
 * A link story carries what /v1/api/story/linkinfo returned to this person: the same page
 * (`url`, `requested_url`, `host`) and only its images; the texts may be edited, as the
 * seed's own sample does with the title.
 */
async function scrapedLinkInfo(ctx: UserCall, text: string | undefined): Promise<LinkInfo> {
  const given = jsonParam('link_info', text, LinkInfoParam);
  if (!given) throw invalidParam('link_info is required.');
  const scraps = await store.findScraps(ctx.platform.db, ctx.app.id, ctx.account.id, given.url);
  const scraped = scraps
    .map((s) => JSON.parse(s.info) as LinkInfo)
    .find(
      (s) =>
        (given.requested_url === undefined || given.requested_url === s.requested_url) &&
        (given.host === undefined || given.host === s.host) &&
        (given.image ?? []).every((img) => s.image.includes(img)),
    );
  if (!scraped) {
    throw invalidParam('invalid link_info: it must be a result of /v1/api/story/linkinfo for this user.');
  }
  return {
    ...scraped,
    title: given.title ?? scraped.title,
    image: given.image ?? scraped.image,
    description: given.description ?? scraped.description,
    section: given.section ?? scraped.section,
    type: given.type ?? scraped.type,
  };
}

export const MAX_LINK_IMAGES = 3;
/** Scraped URLs are stored and indexed; longer ones are refused like any unusable page. */
export const MAX_URL_BYTES = 2048;

export async function linkInfo(ctx: UserCall, url: string): Promise<LinkInfo> {
  requireStoryUser(ctx.account);
  return scrapLinkInfo(ctx.platform, ctx.app, ctx.account.id, url);
}

/** Scrapes `url` under the app's domain policy and keeps the result for a later link post. */
async function scrapLinkInfo(platform: Platform, app: App, accountId: number, url: string): Promise<LinkInfo> {
  const { db, clock } = platform;
  if (Buffer.byteLength(url) > MAX_URL_BYTES) throw new KakaoApiError(-604, `scrap failed: the url is longer than ${MAX_URL_BYTES} bytes`, 400);
  const page = await scrapForApp(url, app.webDomains);
  if (Buffer.byteLength(page.url) > MAX_URL_BYTES) {
    throw new KakaoApiError(-604, `scrap failed: it redirects to a url longer than ${MAX_URL_BYTES} bytes`, 400);
  }
  const og = await readOpenGraph(page.html, page.url);
  const info: LinkInfo = {
    url: page.url,
    requested_url: url,
    host: new URL(page.url).host,
    title: og.title ?? '',
    image: og.images.slice(0, MAX_LINK_IMAGES).map((i) => i.url),
    description: og.description ?? '',
    section: og.section ?? '',
    type: og.type ?? '',
  };
  await store.saveScrap(db, app.id, accountId, url, info.url, JSON.stringify(info), clock.now());
  return info;
}

/**
 * Kakao Story's own share page (story.kakao.com/s/share, SDK v1's Kakao.Story.share): the
 * signed-in person previews a link (scraped under the app's domain policy) and posts it as
 * a link story of theirs, through that app.
 */
export async function previewSharedLink(platform: Platform, app: App, account: Account, url: string): Promise<LinkInfo> {
  requireStoryUser(account);
  return scrapLinkInfo(platform, app, account.id, url);
}

export async function postSharedLink(platform: Platform, app: App, account: Account, input: { url: string; text: string; permission?: string }): Promise<{ id: string }> {
  requireStoryUser(account);
  const permission = readPermission(input.permission);
  if ([...input.text].length > MAX_CONTENT_CHARS) throw invalidParam(`content is too long: up to ${MAX_CONTENT_CHARS} characters are allowed.`);
  const saved = (await store.findScraps(platform.db, app.id, account.id, input.url)).map((s) => JSON.parse(s.info) as LinkInfo);
  const info = saved.find((s) => s.requested_url === input.url) ?? (await scrapLinkInfo(platform, app, account.id, input.url));
  return insertPost(platform, account.id, app.id, 'link', { content: input.text, permission }, [], info);
}

// Uploads

export async function uploadImages(ctx: UserCall, files: ReceivedFile[]): Promise<string[]> {
  requireStoryUser(ctx.account);
  if (files.length > 1 && files.some(isGif)) throw tooManyImages('a GIF image can only be uploaded alone.');
  const { db, clock } = ctx.platform;
  const now = clock.now();
  const processed = [];
  for (const file of files) processed.push(await processImage(file));
  const images = processed.map((p) => ({
    row: {
      key: `${store.randomBase62(6)}/${store.randomBase62(10)}/${store.randomBase62(22)}`,
      app_id: ctx.app.id,
      account_id: ctx.account.id,
      ext: p.ext,
      width: p.width,
      height: p.height,
      created_at: now,
    },
    files: p.files,
  }));
  await store.insertImages(db, images);
  return images.map(({ row }) => `/dn/${row.key}/img.${row.ext}?width=${row.width}&height=${row.height}`);
}

/** `img.png`, `img_xl.jpg`… → the stored variant. */
export function variantOfFile(file: string): { variant: string; ext: string } | undefined {
  const m = /^img(_xl|_l|_m|_s)?\.(jpg|png|gif|webp)$/.exec(file);
  if (!m) return undefined;
  if (!m[1]) return { variant: 'original', ext: m[2] };
  const v = VARIANTS.find((x) => x.suffix === m[1]);
  return v && m[2] === 'jpg' ? { variant: v.name, ext: 'jpg' } : undefined;
}

export async function imageFile(db: Kysely<DB>, key: string, file: string) {
  const wanted = variantOfFile(file);
  if (!wanted) return undefined;
  const found = await store.findImageFile(db, key, wanted.variant);
  if (!found) return undefined;
  if (wanted.variant === 'original' && found.ext !== wanted.ext) return undefined;
  return found;
}

// Reading

export interface StoryActorJson {
  display_name: string;
  profile_thumbnail_url?: string;
}

export interface StoryMediaJson {
  original: string;
  xlarge: string;
  large: string;
  medium: string;
  small: string;
}

export interface StoryJson {
  id: string;
  url: string;
  media_type: string;
  created_at: string;
  comment_count: number;
  like_count: number;
  content: string;
  media?: StoryMediaJson[];
  comments?: { text: string; writer: StoryActorJson }[];
  likes?: { emotion: string; actor: StoryActorJson }[];
  permission: string;
}

function actor(
  r: { nickname: string; story_nickname: string | null; thumbnail: string | null; story_thumbnail: string | null },
  origin: string,
): StoryActorJson {
  const out: StoryActorJson = { display_name: r.story_nickname ?? r.nickname };
  const thumb = r.story_thumbnail ?? r.thumbnail;
  if (thumb) out.profile_thumbnail_url = urlForClient(thumb, origin);
  return out;
}

export function storyUrl(origin: string, id: string): string {
  return `${origin}/story/${id.replace('.', '/')}`;
}

function mediaJson(origin: string, m: store.MediaRow): StoryMediaJson {
  const url = (variant: string, file: string) => {
    const f = m.files.find((x) => x.variant === variant)!;
    return `${origin}/dn/${m.key}/${file}?width=${f.width}&height=${f.height}`;
  };
  return {
    original: url('original', `img.${m.ext}`),
    xlarge: url('xlarge', 'img_xl.jpg'),
    large: url('large', 'img_l.jpg'),
    medium: url('medium', 'img_m.jpg'),
    small: url('small', 'img_s.jpg'),
  };
}

/** Stories as the wire shows them; `detail` adds comments and likes (mystory). */
export async function storiesJson(db: Kysely<DB>, origin: string, rows: store.StoryRow[], detail: boolean): Promise<StoryJson[]> {
  const ids = rows.map((r) => r.id);
  // One statement of each kind for all the stories, whatever their number.
  const [media, counts, comments, likes] = await Promise.all([
    store.mediaOf(db, ids),
    store.countsOf(db, ids),
    detail ? store.commentsOf(db, ids) : undefined,
    detail ? store.likesOf(db, ids) : undefined,
  ]);
  const out: StoryJson[] = [];
  for (const row of rows) {
    const c = counts.get(row.id)!;
    // Field order as in the seed's samples; `permission` last.
    const json: StoryJson = {
      id: row.id,
      url: storyUrl(origin, row.id),
      media_type: row.media_type,
      created_at: isoSeconds(row.created_at),
      comment_count: c.comments,
      like_count: c.likes,
      // Always present, "" when none: Kakao's SDK models require it (a photo story
      // without text would break the parse of a whole list).
      content: row.content,
      media: row.media_type === 'PHOTO' ? (media.get(row.id) ?? []).map((m) => mediaJson(origin, m)) : undefined,
      permission: row.permission,
    };
    if (json.media === undefined) delete json.media;
    if (comments && likes) {
      const { permission, ...rest } = json;
      out.push({
        ...rest,
        comments: comments.get(row.id)!.map((r) => ({ text: r.text, writer: actor(r, origin) })),
        likes: likes.get(row.id)!.map((r) => ({ emotion: r.emotion, actor: actor(r, origin) })),
        permission,
      });
    } else {
      out.push(json);
    }
  }
  return out;
}

/** A story of the signed-in person, or -605. */
async function myStory(ctx: UserCall, id: string): Promise<store.StoryRow> {
  if (!store.parseStoryId(id)) throw storyNotFound();
  const row = await store.findStory(ctx.platform.db, id);
  if (!row || row.account_id !== ctx.account.id) throw storyNotFound();
  return row;
}

export async function getMyStory(ctx: UserCall, id: string): Promise<StoryJson> {
  requireScopes(ctx, 'STORY_READ_MY_STORY', ['story_read']);
  requireStoryUser(ctx.account);
  const row = await myStory(ctx, id);
  return (await storiesJson(ctx.platform.db, ctx.origin, [row], true))[0];
}

export async function listMyStories(ctx: UserCall, lastId: string | undefined): Promise<StoryJson[]> {
  requireScopes(ctx, 'STORY_READ_MY_STORIES', ['story_read']);
  requireStoryUser(ctx.account);
  const { db, clock } = ctx.platform;
  let before: { seq: number; id: string } | undefined;
  if (lastId !== undefined) {
    const parsed = store.parseStoryId(lastId);
    const profile = await store.ensureProfile(db, ctx.account.id, clock.now());
    // A cursor keeps working after its story was deleted: the position is in the id.
    if (!parsed || parsed.handle !== profile.handle) throw storyNotFound();
    before = { seq: parsed.seq, id: lastId };
  }
  const rows = await store.listStories(db, ctx.account.id, STORIES_PAGE_SIZE, before);
  return storiesJson(db, ctx.origin, rows, false);
}

export async function deleteMyStory(ctx: UserCall, id: string): Promise<void> {
  requireScopes(ctx, 'STORY_DELETE_MY_STORY', ['story_read']);
  requireStoryUser(ctx.account);
  await myStory(ctx, id);
  if (!(await store.deleteStory(ctx.platform.db, id))) throw storyNotFound();
}

// Friends' reactions (control plane)

export class ReactionRefused extends Error {}

/** Who may react: anyone on a PUBLIC story, friends on a FRIEND story, nobody but the owner on ONLY_ME. */
export async function checkCanReact(db: Kysely<DB>, story: store.StoryRow, accountId: number): Promise<void> {
  if (accountId === story.account_id) return;
  if (story.permission === 'ONLY_ME') throw new ReactionRefused('the story is private (ONLY_ME): only its owner sees it');
  if (story.permission === 'PUBLIC') return;
  if (!(await areFriends(db, story.account_id, accountId))) throw new ReactionRefused(`account ${accountId} is not a friend of the story's owner (the story is FRIEND only)`);
}

export async function addComment(db: Kysely<DB>, story: store.StoryRow, accountId: number, text: string, now: number): Promise<number> {
  await checkCanReact(db, story, accountId);
  const id = await newId(db);
  await store.addComment(db, story.id, accountId, text, id, now);
  return id;
}

export async function setMood(db: Kysely<DB>, story: store.StoryRow, accountId: number, emotion: Emotion, now: number): Promise<void> {
  await checkCanReact(db, story, accountId);
  await store.setLike(db, story.id, accountId, emotion, now);
}
