import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { mustAccount } from '../../control/lookups.js';
import { asAfterDeletes } from '../../db/dialect.js';
import { ControlError } from '../../core/errors.js';
import { isoSeconds } from '../../core/clock.js';
import { originOf } from '../../core/platform.js';
import { Id, LIMITS as L, Text } from '../../control/limits.js';
import { LIST_PAGE, ListQuery, pageBy } from '../../control/paging.js';
import * as store from './store.js';
import { EMOTIONS, ReactionRefused, addComment, permalink, setMood, storiesJson } from './operations.js';
import { CREATED, NO_CONTENT } from '../../core/http.js';

/**
 * Story control-plane routes, mounted under /_kapibara/v1 (operator token checked there):
 * see a person's stories with everything the platform stored, and let simulated friends
 * comment and leave moods so apps can be tested against realistic data.
 */

const AccountParams = Type.Object({ account_id: Id });
const StoryParams = Type.Object({ story_id: Text(L.storyId) });
const StoriesQuery = Type.Object({ after: Type.Optional(Text(L.storyId)), limit: ListQuery.limit });
const CommentParams = Type.Object({ story_id: Text(L.storyId), comment_id: Id });
const LikeParams = Type.Object({ story_id: Text(L.storyId), account_id: Id });
export const CommentBody = Type.Object({ account_id: Id, text: Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false });
export const LikeBody = Type.Object(
  { emotion: Type.Union(EMOTIONS.map((e) => Type.Literal(e))) },
  { additionalProperties: false },
);
export const ProfileBody = Type.Object(
  {
    nickname: Type.Optional(Type.Union([Text(L.nickname, 1), Type.Null()])),
    profile_image_url: Type.Optional(Type.Union([Text(L.url), Type.Null()])),
    thumbnail_url: Type.Optional(Type.Union([Text(L.url), Type.Null()])),
    bg_image_url: Type.Optional(Type.Union([Text(L.url), Type.Null()])),
  },
  { additionalProperties: false },
);
export const StoryBody = Type.Object(
  {
    content: Type.String({ minLength: 1, maxLength: 2048 }),
    permission: Type.Optional(Type.Union([Type.Literal('PUBLIC'), Type.Literal('FRIEND'), Type.Literal('ONLY_ME')])),
  },
  { additionalProperties: false },
);

/** Stories as the control plane shows them: the wire form and what only the platform knows, comments and moods included; one statement of each kind for all of them. */
async function controlStories(db: Kysely<DB>, origin: string, rows: store.StoryRow[]) {
  const ids = rows.map((r) => r.id);
  const [wire, comments, likes] = await Promise.all([storiesJson(db, origin, rows, false), store.commentsOf(db, ids), store.likesOf(db, ids)]);
  return rows.map((row, i) => ({
    ...wire[i],
    account_id: row.account_id,
    app_id: row.app_id,
    enable_share: row.enable_share === 1,
    android_exec_param: row.android_exec_param,
    ios_exec_param: row.ios_exec_param,
    android_market_param: row.android_market_param,
    ios_market_param: row.ios_market_param,
    link_info: row.link_info === null ? null : JSON.parse(row.link_info),
    comments: comments.get(row.id)!.map((c) => ({ id: c.id, account_id: c.account_id, text: c.text, created_at: isoSeconds(c.created_at) })),
    likes: likes.get(row.id)!.map((l) => ({ account_id: l.account_id, emotion: l.emotion, created_at: isoSeconds(l.created_at) })),
  }));
}

export default async function storyControlRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  async function mustStory(id: string): Promise<store.StoryRow> {
    const row = store.parseStoryId(id) ? await store.findStory(app.platform.db, id) : undefined;
    if (!row) throw new ControlError(404, `story ${id} not found`);
    return row;
  }
  async function profileJson(accountId: number, origin: string) {
    const p = await store.ensureProfile(app.platform.db, accountId, app.platform.clock.now());
    return {
      account_id: p.account_id,
      handle: p.handle,
      permalink: permalink(origin, p.handle),
      nickname: p.nickname,
      profile_image_url: p.profile_image_url,
      thumbnail_url: p.thumbnail_url,
      bg_image_url: p.bg_image_url,
    };
  }

  app.get('/accounts/:account_id/story-profile', { schema: { params: AccountParams } }, async (req) => {
    await mustAccount(app.platform.db, req.params.account_id);
    return profileJson(req.params.account_id, originOf(req));
  });

  app.put('/accounts/:account_id/story-profile', { schema: { params: AccountParams, body: ProfileBody } }, async (req) => {
    const lookUp = () => mustAccount(app.platform.db, req.params.account_id);
    await lookUp();
    return asAfterDeletes(async () => {
      await store.ensureProfile(app.platform.db, req.params.account_id, app.platform.clock.now());
      await store.updateProfile(app.platform.db, req.params.account_id, req.body);
      return profileJson(req.params.account_id, originOf(req));
    }, lookUp);
  });

  /**
   * A person's stories, newest first (seq, then id), with comments and moods, a page at a
   * time: `after` is the last story of the page before; its place is in its id, so it goes
   * on after that story is deleted (as kapi's `last_id`).
   */
  app.get('/accounts/:account_id/stories', { schema: { params: AccountParams, querystring: StoriesQuery } }, async (req, reply) => {
    const accountId = req.params.account_id;
    await mustAccount(app.platform.db, accountId);
    const { db } = app.platform;
    const { after } = req.query;
    let before: { seq: number; id: string } | undefined;
    if (after !== undefined) {
      const stored = await store.findStory(db, after);
      const seq = stored ? Number(stored.seq) : store.parseStoryId(after)?.seq;
      if (seq === undefined) throw new ControlError(400, `after: ${after} is no story id`);
      before = { seq, id: after };
    }
    const limit = req.query.limit ?? LIST_PAGE;
    const rows = pageBy(reply, `/accounts/${accountId}/stories`, await store.listStories(db, accountId, limit + 1, before), limit, (last) => ({ after: last.id }));
    return controlStories(db, originOf(req), rows);
  });

  /** A story the person wrote in the Kakao Story app itself (not through an app). */
  app.post('/accounts/:account_id/stories', { config: CREATED, schema: { params: AccountParams, body: StoryBody } }, async (req) => {
    const { db, clock } = app.platform;
    const lookUp = () => mustAccount(db, req.params.account_id);
    await lookUp();
    const now = clock.now();
    return asAfterDeletes(async () => {
      const profile = await store.ensureProfile(db, req.params.account_id, now);
      const seq = store.newSeq(now);
      const id = `${profile.handle}.${store.activityId(seq)}`;
      await store.insertStory(
        db,
        {
          id,
          account_id: req.params.account_id,
          app_id: null,
          seq,
          media_type: 'NOTE',
          content: req.body.content,
          permission: req.body.permission ?? 'PUBLIC',
          enable_share: 0,
          android_exec_param: null,
          ios_exec_param: null,
          android_market_param: null,
          ios_market_param: null,
          link_info: null,
          created_at: now,
        },
        [],
      );
      const stored = await store.findStory(db, id);
      if (!stored) {
        await lookUp(); // Deleted since, with its writer or alone: the 404 of a call after the delete.
        throw new ControlError(404, `story ${id} not found`);
      }
      return (await controlStories(db, originOf(req), [stored]))[0];
    }, lookUp);
  });

  app.get('/stories/:story_id', { schema: { params: StoryParams } }, async (req) => {
    const [story] = await controlStories(app.platform.db, originOf(req), [await mustStory(req.params.story_id)]);
    return story;
  });

  app.post('/stories/:story_id/comments', { config: CREATED, schema: { params: StoryParams, body: CommentBody } }, async (req) => {
    const lookUp = async () => [await mustStory(req.params.story_id), await mustAccount(app.platform.db, req.body.account_id)] as const;
    const [story] = await lookUp();
    try {
      const now = app.platform.clock.now();
      const id = await asAfterDeletes(() => addComment(app.platform.db, story, req.body.account_id, req.body.text, now), lookUp);
      return { id, story_id: story.id, account_id: req.body.account_id, text: req.body.text, created_at: isoSeconds(now) };
    } catch (err) {
      if (err instanceof ReactionRefused) throw new ControlError(409, err.message);
      throw err;
    }
  });

  app.delete('/stories/:story_id/comments/:comment_id', { config: NO_CONTENT, schema: { params: CommentParams } }, async (req, reply) => {
    await mustStory(req.params.story_id);
    if (!(await store.deleteComment(app.platform.db, req.params.story_id, req.params.comment_id))) {
      throw new ControlError(404, `comment ${req.params.comment_id} not found on story ${req.params.story_id}`);
    }
    return reply.send();
  });

  app.put('/stories/:story_id/likes/:account_id', { schema: { params: LikeParams, body: LikeBody } }, async (req) => {
    const lookUp = async () => [await mustStory(req.params.story_id), await mustAccount(app.platform.db, req.params.account_id)] as const;
    const [story] = await lookUp();
    try {
      await asAfterDeletes(() => setMood(app.platform.db, story, req.params.account_id, req.body.emotion, app.platform.clock.now()), lookUp);
    } catch (err) {
      if (err instanceof ReactionRefused) throw new ControlError(409, err.message);
      throw err;
    }
    return { story_id: story.id, account_id: req.params.account_id, emotion: req.body.emotion };
  });

  app.delete('/stories/:story_id/likes/:account_id', { config: NO_CONTENT, schema: { params: LikeParams } }, async (req, reply) => {
    await mustStory(req.params.story_id);
    if (!(await store.deleteLike(app.platform.db, req.params.story_id, req.params.account_id))) {
      throw new ControlError(404, `account ${req.params.account_id} left no mood on story ${req.params.story_id}`);
    }
    return reply.send();
  });
}
