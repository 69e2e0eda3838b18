import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { requireUser } from '../../core/auth.js';
import { originOf } from '../../core/platform.js';
import { params, rawParams } from '../../core/params.js';
import * as ops from './operations.js';
import { receiveFiles } from './images.js';
import { notFoundPage, storyPage, profilePage } from './pages.js';

/** Story routes: literal Kakao paths, plus the pages and images Kapibara serves for them. */

const PostParams = Type.Object({
  content: Type.Optional(Type.String()),
  permission: Type.Optional(Type.String()),
  enable_share: Type.Optional(Type.Boolean()),
  android_exec_param: Type.Optional(Type.String()),
  ios_exec_param: Type.Optional(Type.String()),
  android_market_param: Type.Optional(Type.String()),
  ios_market_param: Type.Optional(Type.String()),
  link_info: Type.Optional(Type.String()),
});
const IdParams = Type.Object({ id: Type.String() });
const ListParams = Type.Object({ last_id: Type.Optional(Type.String()) });
const UrlParams = Type.Object({ url: Type.String() });

async function context(req: FastifyRequest): Promise<ops.StoryContext> {
  return { platform: req.server.platform, user: await requireUser(req), origin: originOf(req) };
}

export default async function storyRoutes(app: FastifyInstance): Promise<void> {
  app.get('/v1/api/story/isstoryuser', async (req) => ops.isStoryUser(await context(req)));

  app.get('/v1/api/story/profile', async (req) => ops.storyProfile(await context(req)));

  for (const kind of ['note', 'photo', 'link'] as const) {
    app.post(`/v1/api/story/post/${kind}`, async (req) => {
      const ctx = await context(req);
      const input = params(req, PostParams);
      return ops.postStory(ctx, kind, { ...input, image_url_list: rawParams(req).image_url_list });
    });
  }

  app.get('/v1/api/story/mystory', async (req) => {
    const ctx = await context(req);
    return ops.getMyStory(ctx, params(req, IdParams).id);
  });

  app.get('/v1/api/story/mystories', async (req) => {
    const ctx = await context(req);
    return ops.listMyStories(ctx, params(req, ListParams).last_id);
  });

  app.delete('/v1/api/story/delete/mystory', async (req, reply) => {
    const ctx = await context(req);
    await ops.deleteMyStory(ctx, params(req, IdParams).id);
    // 200 with no body, still typed as JSON (seed: Content-Length: 0).
    return reply.status(200).header('content-type', 'application/json;charset=UTF-8').send('');
  });

  app.post('/v1/api/story/upload/multi', async (req) => {
    const ctx = await context(req);
    return ops.uploadImages(ctx, await receiveFiles(req));
  });

  app.get('/v1/api/story/linkinfo', async (req) => {
    const ctx = await context(req);
    return ops.linkInfo(ctx, params(req, UrlParams).url);
  });

  // What Kapibara serves at the URLs it returns: uploaded images, story pages, permalinks.
  app.get<{ Params: { a: string; b: string; c: string; file: string } }>('/dn/:a/:b/:c/:file', async (req, reply) => {
    const { a, b, c, file } = req.params;
    const found = /^[0-9A-Za-z]+$/.test(a + b + c) ? await ops.imageFile(req.server.platform.db, `${a}/${b}/${c}`, file) : undefined;
    if (!found) return notFound(req, reply);
    return reply
      .header('content-type', found.content_type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(Buffer.from(found.bytes));
  });

  app.get<{ Params: { handle: string; activity: string } }>('/story/:handle/:activity', async (req, reply) => {
    const html = await storyPage(req.server.platform.db, originOf(req), `${req.params.handle}.${req.params.activity}`);
    if (html === undefined) return pageNotFound(reply);
    return reply.type('text/html; charset=utf-8').send(html);
  });

  app.get<{ Params: { handle: string } }>('/story/:handle', async (req, reply) => {
    const html = await profilePage(req.server.platform.db, originOf(req), req.params.handle);
    if (html === undefined) return pageNotFound(reply);
    return reply.type('text/html; charset=utf-8').send(html);
  });
}

/** Story pages are opened by browsers: their 404 is a page too. */
function pageNotFound(reply: FastifyReply) {
  return reply.status(404).type('text/html; charset=utf-8').send(notFoundPage());
}

function notFound(req: FastifyRequest, reply: FastifyReply) {
  return reply.status(404).type('application/json;charset=UTF-8').send({ msg: `no such resource: ${req.url.split('?')[0]}`, code: -1 });
}
