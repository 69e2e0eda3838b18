import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ADMIN_ONLY, requireAppKey, requireUser, requireUserOrAdmin } from '../../core/auth.js';
import { invalidParam } from '../../core/errors.js';
import { jsonParam, listParam, params, rawParams } from '../../core/params.js';
import { originOf } from '../../core/platform.js';
import { KeptAnswers } from '../../core/kept-answers.js';
import * as ops from './operations.js';
import { userResponseSchema, userListResponseSchema } from './schemas.js';

/** User API routes (kapi): literal Kakao paths; each builds its caller and input, then calls an operation. */

const MAX_ID = Number.MAX_SAFE_INTEGER;
const UserId = Type.Integer({ minimum: 1, maximum: MAX_ID });
const PropertyKeys = Type.Array(Type.String(), { maxItems: 100 });

const MeParams = Type.Object({
  property_keys: Type.Optional(Type.String()),
  secure_resource: Type.Optional(Type.Boolean()),
});
const AppUsersParams = Type.Object({
  target_id_type: Type.Literal('user_id'),
  target_ids: Type.String(),
  property_keys: Type.Optional(Type.String()),
  secure_resource: Type.Optional(Type.Boolean()),
});
const TargetIds = Type.Array(UserId, { minItems: 1, maxItems: 100 });
const UserIdsParams = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  from_id: Type.Optional(UserId),
});
const PropertiesParams = Type.Object({ properties: Type.String() });
const SignupParams = Type.Object({ properties: Type.Optional(Type.String()) });
const PropertiesObject = Type.Record(Type.String(), Type.Unknown());
const ShippingParams = Type.Object({
  address_id: Type.Optional(UserId),
  // Unix seconds, possibly with a fraction (`1538448856.0`).
  from_updated_at: Type.Optional(Type.Number({ minimum: 0, maximum: 1e11 })),
  page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
});
const ScopesParams = Type.Object({ scopes: Type.Optional(Type.String()) });
const RevokeScopesParams = Type.Object({ scopes: Type.String() });
const ScopeIds = Type.Array(Type.String(), { maxItems: 100 });
const TermsParams = Type.Object({
  result: Type.Optional(Type.Union([Type.Literal('agreed_service_terms'), Type.Literal('app_service_terms')])),
});

function view(app: ops.Subject['app'], p: { property_keys?: string; secure_resource?: boolean }, origin: string): ops.UserView {
  return {
    keys: ops.checkPropertyKeys(app, jsonParam('property_keys', p.property_keys, PropertyKeys)),
    secure: p.secure_resource === true,
    origin,
  };
}

/** `tags`: repeated, comma-joined or a JSON array, in the query or the form. */
function tagsParam(req: FastifyRequest): string[] | undefined {
  try {
    return listParam(rawParams(req).tags);
  } catch {
    throw invalidParam('invalid tags: not a valid JSON array.');
  }
}

function requiredTags(req: FastifyRequest): string[] {
  const tags = tagsParam(req);
  if (!tags || tags.length === 0) throw invalidParam('tags is required.');
  return tags;
}

export default async function userRoutes(app: FastifyInstance): Promise<void> {
  const { platform } = app;

  // The hot path: the answer depends on the credential, the URL, the origin (Kapibara's own
  // images), the database and the year.
  const meAnswers = new KeptAnswers();
  app.route({
    method: ['GET', 'POST'],
    url: '/v2/user/me',
    schema: { response: { 200: userResponseSchema } },
    handler: (req, reply) =>
      meAnswers.serve(req, reply, originOf(req), async () => {
        const subject = await requireUserOrAdmin(req);
        return {
          payload: ops.userJson(subject, view(subject.app, params(req, MeParams), originOf(req)), platform.clock.now()),
          validUntil: subject.tokenExpiresAt ?? Infinity,
        };
      }),
  });

  app.get('/v1/user/access_token_info', async (req) => {
    const ctx = await requireUser(req);
    return ops.accessTokenInfo(platform, ctx, ctx.tokenExpiresAt);
  });

  app.post('/v1/user/logout', async (req) => ops.logout(platform, await requireUserOrAdmin(req)));
  app.post('/v1/user/unlink', async (req) => ops.unlink(platform, await requireUserOrAdmin(req)));

  app.route({
    method: ['GET', 'POST'],
    url: '/v2/app/users',
    schema: { response: { 200: userListResponseSchema } },
    handler: async (req) => {
      const { app: target } = await requireAppKey(req, ADMIN_ONLY);
      const p = params(req, AppUsersParams);
      const ids = jsonParam('target_ids', p.target_ids, TargetIds)!;
      return ops.appUsers(platform, target, ids, view(target, p, originOf(req)));
    },
  });

  app.get('/v1/user/ids', async (req) => {
    const { app: target, key } = await requireAppKey(req, ADMIN_ONLY);
    const p = params(req, UserIdsParams);
    return ops.userIds(
      platform,
      target,
      { limit: p.limit ?? 100, order: p.order ?? 'asc', fromId: p.from_id },
      { origin: originOf(req), appKey: key },
    );
  });

  app.post('/v1/user/update_profile', async (req) => {
    const subject = await requireUserOrAdmin(req);
    const p = params(req, PropertiesParams);
    const properties = jsonParam('properties', p.properties, PropertiesObject);
    if (!properties) throw invalidParam('properties is required.');
    return ops.updateProfile(platform, subject, properties);
  });

  app.post('/v1/user/signup', async (req) => {
    const subject = await requireUser(req);
    const p = params(req, SignupParams);
    return ops.signup(platform, subject, jsonParam('properties', p.properties, PropertiesObject));
  });

  app.get('/v1/user/shipping_address', async (req) => {
    const subject = await requireUserOrAdmin(req);
    const p = params(req, ShippingParams);
    return ops.shippingAddresses(platform, subject, {
      addressId: p.address_id,
      fromUpdatedAt: p.from_updated_at,
      pageSize: p.page_size ?? 10,
    });
  });

  app.get('/v2/user/scopes', async (req) => {
    const subject = await requireUserOrAdmin(req);
    const p = params(req, ScopesParams);
    return ops.scopes(subject, jsonParam('scopes', p.scopes, ScopeIds));
  });

  app.post('/v2/user/revoke/scopes', async (req) => {
    const subject = await requireUserOrAdmin(req);
    const p = params(req, RevokeScopesParams);
    const ids = jsonParam('scopes', p.scopes, ScopeIds);
    if (!ids || ids.length === 0) throw invalidParam('scopes is required.');
    return ops.revokeScopes(platform, subject, ids);
  });

  app.get('/v2/user/service_terms', async (req) => {
    const subject = await requireUserOrAdmin(req);
    const p = params(req, TermsParams);
    return ops.serviceTerms(subject, tagsParam(req), p.result ?? 'agreed_service_terms');
  });

  app.post('/v2/user/revoke/service_terms', async (req) => {
    const subject = await requireUserOrAdmin(req);
    return ops.revokeServiceTerms(platform, subject, requiredTags(req));
  });

  app.post('/v2/user/upgrade/service_terms', async (req) => {
    const subject = await requireUserOrAdmin(req);
    return ops.upgradeServiceTerms(platform, subject, requiredTags(req));
  });

  app.route({
    method: ['GET', 'POST'],
    url: '/v1/oidc/userinfo',
    handler: async (req) => ops.oidcUserinfo(await requireUser(req), originOf(req)),
  });
}
