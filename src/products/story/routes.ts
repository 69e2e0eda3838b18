import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { originOf } from '../../core/platform.js';
import { route } from '../../core/route.js';
import { HTML_TYPE, JSON_TYPE } from '../../core/http.js';
import * as ops from './operations.js';
import { receiveFiles } from './images.js';
import { notFoundPage, storyPage, profilePage } from './pages.js';

/** Story routes (seed 000): literal Kakao paths, plus the pages and images Kapibara serves for them. */

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

export const storyRoutes = [
  route({ method: 'GET', url: '/v1/api/story/isstoryuser', auth: 'user', handler: (call) => ops.isStoryUser(call) }),
  route({ method: 'GET', url: '/v1/api/story/profile', auth: 'user', handler: (call) => ops.storyProfile(call) }),
  ...(['note', 'photo', 'link'] as const).map((kind) =>
    route({
      method: 'POST',
      url: `/v1/api/story/post/${kind}`,
      auth: 'user',
      params: PostParams,
      handler: (call, input, { raw }) => ops.postStory(call, kind, { ...input, image_url_list: raw.image_url_list }),
    }),
  ),
  route({ method: 'GET', url: '/v1/api/story/mystory', auth: 'user', params: IdParams, handler: (call, input) => ops.getMyStory(call, input.id) }),
  route({
    method: 'GET',
    url: '/v1/api/story/mystories',
    auth: 'user',
    params: ListParams,
    handler: (call, input) => ops.listMyStories(call, input.last_id),
  }),
  route({
    method: 'DELETE',
    url: '/v1/api/story/delete/mystory',
    auth: 'user',
    params: IdParams,
    response: 'empty',
    handler: (call, input) => ops.deleteMyStory(call, input.id),
  }),
  route({
    method: 'POST',
    url: '/v1/api/story/upload/multi',
    auth: 'user',
    body: receiveFiles,
    handler: (call, _input, { body }) => ops.uploadImages(call, body),
  }),
  route({ method: 'GET', url: '/v1/api/story/linkinfo', auth: 'user', params: UrlParams, handler: (call, input) => ops.linkInfo(call, input.url) }),
];

/** What Kapibara serves at the URLs it returns: uploaded images, story pages, permalinks. */
export async function storyPages(app: FastifyInstance): Promise<void> {
  // Images are served from Kakao's API hosts: their errors are kapi's.
  app.get<{ Params: { a: string; b: string; c: string; file: string } }>('/dn/:a/:b/:c/:file', { config: { surface: 'kapi' } }, async (req, reply) => {
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
    return reply.type(HTML_TYPE).send(html);
  });

  app.get<{ Params: { handle: string } }>('/story/:handle', async (req, reply) => {
    const html = await profilePage(req.server.platform.db, originOf(req), req.params.handle);
    if (html === undefined) return pageNotFound(reply);
    return reply.type(HTML_TYPE).send(html);
  });
}

/** Story pages are opened by browsers: their 404 is a page too. */
function pageNotFound(reply: FastifyReply) {
  return reply.status(404).type(HTML_TYPE).send(notFoundPage());
}

/** Images live on Kakao's API hosts: an unknown one answers as kapi does. */
function notFound(req: FastifyRequest, reply: FastifyReply) {
  return reply.status(404).type(JSON_TYPE).send({ msg: `no such resource: ${req.url.split('?')[0]}`, code: -1 });
}
