import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { KakaoApiError } from '../../core/errors.js';
import { JSON_TYPE, sendPage } from '../../core/http.js';
import { route } from '../../core/route.js';
import { loginUrlFor, sessionValueOf, signedInPerson } from '../login/index.js';
import { IMAGE_PATH, receiveImages, removeImage, scrapImage, servedImage, uploadImages } from './images.js';
import { PICKER_POLICY, PLAIN_POLICY, SENT_POLICY, failurePage, pickerPage, sentPage } from './picker.js';
import { type Picker, type SharerFields, SendRefused, ShareGone, openPicker, openShare, sendShare } from './share.js';
import { nicknames } from './store.js';
import { type ValidationAction, validateShare, validationJson } from './validation.js';
import { checkCaller } from '../../core/auth.js';
import { referenceGone } from '../../db/dialect.js';

const LOGIN_ENDED = 'Your Kakao login ended. Share again from the app.';

/** Kakao Talk sharing (seed 004, wire facts §7): literal Kakao paths. */

const Str = Type.Optional(Type.String());
const ValidationParams = Type.Object({
  link_ver: Str,
  template_object: Str,
  template_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  template_args: Str,
  request_url: Str,
  scheme_params: Str,
});
const SHARE_KEYS = ['javascript', 'native'] as const;

const VALIDATIONS: { action: ValidationAction; url: string }[] = [
  { action: 'default', url: '/v2/api/kakaolink/talk/template/default' },
  { action: 'custom', url: '/v2/api/kakaolink/talk/template/validate' },
  { action: 'scrap', url: '/v2/api/kakaolink/talk/template/scrap' },
];

const ImageInfos = Type.Object({
  infos: Type.Object({
    original: Type.Object({ url: Type.String(), content_type: Type.String(), length: Type.Integer(), width: Type.Integer(), height: Type.Integer() }),
  }),
});
const ImageUrlParams = Type.Object({ image_url: Type.String(), secure_resource: Type.Optional(Type.Boolean()) });
const UploadParams = Type.Object({ secure_resource: Type.Optional(Type.Boolean()) });

export const sharingRoutes = [
  ...VALIDATIONS.map((v) =>
    route({
      method: ['GET', 'POST'],
      url: v.url,
      auth: 'app-key',
      keys: SHARE_KEYS,
      params: ValidationParams,
      handler: async (call, input) => {
        checkCaller(call);
        const validation = await validateShare(call.platform, call.app, {
          action: v.action,
          linkVer: input.link_ver,
          templateObject: input.template_object,
          templateId: input.template_id,
          templateArgs: input.template_args,
          requestUrl: input.request_url,
          schemeParams: input.scheme_params,
        });
        return validationJson(validation);
      },
    }),
  ),
  route({
    method: 'POST',
    url: '/v2/api/talk/message/image/upload',
    auth: 'app-key',
    keys: SHARE_KEYS,
    params: UploadParams,
    body: receiveImages,
    response: ImageInfos,
    handler: (call, _input, { body }) => {
      checkCaller(call);
      return uploadImages(call, body);
    },
  }),
  route({
    method: 'POST',
    url: '/v2/api/talk/message/image/scrap',
    auth: 'app-key',
    keys: SHARE_KEYS,
    params: ImageUrlParams,
    response: ImageInfos,
    handler: (call, input) => {
      checkCaller(call);
      return scrapImage(call, input.image_url);
    },
  }),
  route({
    method: 'DELETE',
    url: '/v2/api/talk/message/image/delete',
    auth: 'app-key',
    keys: SHARE_KEYS,
    params: ImageUrlParams,
    response: 'empty',
    handler: async (call, input) => {
      checkCaller(call);
      await removeImage(call, input.image_url);
    },
  }),
];

function one(value: unknown): string | undefined {
  if (Array.isArray(value)) return one(value[value.length - 1]);
  return typeof value === 'string' ? value : undefined;
}

function fieldsOf(source: unknown): SharerFields {
  const s = (source && typeof source === 'object' ? source : {}) as Record<string, unknown>;
  return { app_key: one(s.app_key), ka: one(s.ka), validation_action: one(s.validation_action), validation_params: one(s.validation_params), lcba: one(s.lcba) };
}

function list(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

/** A form may only come from the sharer's own page (Origin and Fetch Metadata), or from no page at all. */
function fromOwnPage(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = req.headers.origin;
  return origin === undefined || origin.toLowerCase() === `${req.protocol}://${req.host}`.toLowerCase();
}

function page(reply: FastifyReply, status: number, policy: string, html: string) {
  reply.header('content-security-policy', policy).header('x-frame-options', 'DENY').header('referrer-policy', 'same-origin');
  return sendPage(reply, status, html);
}

function failure(reply: FastifyReply, status: number, code: number | string, msg: string) {
  return page(reply, status, PLAIN_POLICY, failurePage(code, msg));
}

/** The sharer (sharer.kakao.com paths on this origin) and the images sharing serves. */
export async function sharingPages(app: FastifyInstance): Promise<void> {
  const platform = app.platform;

  /** The person signed in to Kakao in this browser, and the login session the picker's form is bound to. */
  async function signedIn(_platform: typeof platform, req: FastifyRequest) {
    const session = sessionValueOf(req);
    const person = await signedInPerson(platform, req);
    return person && session ? { ...person, session } : undefined;
  }

  async function showPicker(req: FastifyRequest, reply: FastifyReply, shortKey: string | undefined, error?: string) {
    const person = await signedIn(platform, req);
    if (!person) {
      if (!shortKey) return failure(reply, 400, -2, 'short_key is required.');
      const resume = `/picker/link?${new URLSearchParams({ short_key: shortKey })}`;
      // A form posted from the app's site carries no SameSite=Lax session cookie: look again
      // on a top-level GET, which does, before asking the person to sign in.
      if (req.method === 'POST') return reply.header('cache-control', 'no-store').redirect(resume, 303);
      return reply.header('cache-control', 'no-store').redirect(loginUrlFor(resume), 303);
    }
    let picker: Picker;
    try {
      picker = await openPicker(platform, shortKey, person.account, person.session);
    } catch (err) {
      if (err instanceof ShareGone) return failure(reply, 400, -2, err.message);
      if (err instanceof KakaoApiError) return failure(reply, err.status, err.code, err.msg);
      throw err;
    }
    const names = await nicknames(platform.db, [...new Set(picker.groups.flatMap((g) => g.memberAccountIds))]);
    return page(reply, error ? 400 : 200, PICKER_POLICY, pickerPage(picker, person.account, shortKey!, names, error));
  }

  async function open(req: FastifyRequest, reply: FastifyReply, fields: SharerFields) {
    let shortKey: string;
    try {
      ({ shortKey } = await openShare(platform, fields, { origin: req.headers.origin, referer: req.headers.referer }));
    } catch (err) {
      if (err instanceof KakaoApiError) return failure(reply, err.status, err.code, err.msg);
      throw err;
    }
    return showPicker(req, reply, shortKey);
  }

  // SDK v2's hidden form; SDK v1's form (long URLs); SDK v1, iOS and Flutter web links.
  app.post('/picker/link', (req, reply) => open(req, reply, fieldsOf(req.body)));
  app.post('/talk/friends/picker/link', (req, reply) => open(req, reply, fieldsOf(req.body)));
  app.get('/talk/friends/picker/easylink', (req, reply) => open(req, reply, fieldsOf(req.query)));
  // Back from signing in.
  app.get('/picker/link', (req, reply) => showPicker(req, reply, one((req.query as Record<string, unknown>).short_key)));

  app.post('/picker/send', async (req, reply) => {
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const shortKey = one(body.short_key);
    if (!fromOwnPage(req)) return failure(reply, 403, -401, 'This form was sent by another site’s page, not by the sharer.');
    const person = await signedIn(platform, req);
    if (!person) return failure(reply, 401, -401, LOGIN_ENDED);
    try {
      const sent = await sendShare(platform, { shortKey, formToken: one(body._csrf), session: person.session, person: person.account, receivers: list(body.receiver) });
      return page(reply, 200, SENT_POLICY, sentPage(sent));
    } catch (err) {
      if (err instanceof ShareGone) return failure(reply, 400, -2, err.message);
      if (err instanceof KakaoApiError) return failure(reply, err.status, err.code, err.msg);
      if (err instanceof SendRefused) {
        if (err.message.includes('security token')) return failure(reply, 403, -401, err.message);
        return showPicker(req, reply, shortKey, err.message);
      }
      // The person was deleted while the share was under way: answered as a send made after.
      if (referenceGone(err) && !(await signedIn(platform, req))) return failure(reply, 401, -401, LOGIN_ENDED);
      throw err;
    }
  });

  // Mobile SDKs land here when validation fails: error is base64url JSON ({code,msg} or {error,error_description}).
  app.get('/picker/failed', async (req, reply) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    let code: number | string = -1;
    let msg = 'The share request failed.';
    const error = one(q.error);
    if (error) {
      try {
        const parsed = JSON.parse(Buffer.from(error, 'base64url').toString('utf8')) as Record<string, unknown>;
        code = typeof parsed.code === 'number' || typeof parsed.code === 'string' ? parsed.code : String(parsed.error ?? code);
        msg = String(parsed.msg ?? parsed.error_description ?? msg);
      } catch {
        msg = 'The share request failed (its error could not be read).';
      }
    }
    return failure(reply, 200, code, msg);
  });

  // Images are kapi's (Kakao serves them on its CDN): a missing one answers in kapi's shape.
  app.get<{ Params: { key: string; file: string } }>(`${IMAGE_PATH}/:key/:file`, { config: { surface: 'kapi' } }, async (req, reply) => {
    const found = await servedImage({ platform }, req.params.key, req.params.file);
    if (!found) return reply.status(404).type(JSON_TYPE).send({ msg: `no such image: ${req.url.split('?')[0]}`, code: -1 });
    return reply
      .header('content-type', found.content_type)
      .header('cache-control', 'public, max-age=86400')
      .send(found.bytes);
  });
}
