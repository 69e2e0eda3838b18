import { Type } from '@sinclair/typebox';
import { ADMIN_ONLY } from '../../core/auth.js';
import { invalidParam } from '../../core/errors.js';
import type { App } from '../../core/model.js';
import { type RawParams, jsonParam, listParam } from '../../core/params.js';
import { route } from '../../core/route.js';
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

/**
 * The legacy service-terms API answers the agreed terms only; its `extra=app_service_terms`
 * (every term of the app besides) is not served, and said so rather than ignored.
 */
const LegacyTermsParams = Type.Object({ extra: Type.Optional(Type.String({ maxLength: 100 })) });

function view(app: App, p: { property_keys?: string; secure_resource?: boolean }, origin: string): ops.UserView {
  return {
    keys: ops.checkPropertyKeys(app, jsonParam('property_keys', p.property_keys, PropertyKeys)),
    secure: p.secure_resource === true,
    origin,
  };
}

/** `tags`: repeated, comma-joined or a JSON array, in the query or the form. */
function tagsParam(raw: RawParams): string[] | undefined {
  try {
    return listParam(raw.tags);
  } catch {
    throw invalidParam('invalid tags: not a valid JSON array.');
  }
}

function requiredTags(raw: RawParams): string[] {
  const tags = tagsParam(raw);
  if (!tags || tags.length === 0) throw invalidParam('tags is required.');
  return tags;
}

export const userRoutes = [
  // The hot path: the answer depends on the credential, the URL, the origin (Kapibara's own
  // images), the database and the year.
  route({
    method: ['GET', 'POST'],
    url: '/v2/user/me',
    auth: 'user-or-admin',
    params: MeParams,
    response: userResponseSchema,
    keep: { varies: (call) => call.origin, validUntil: (call) => call.tokenExpiresAt ?? Infinity },
    handler: (call, input) => ops.userJson(call, view(call.app, input, call.origin), call.platform.clock.now()),
  }),
  route({
    method: 'GET',
    url: '/v1/user/access_token_info',
    auth: 'user',
    handler: (call) => ops.accessTokenInfo(call.platform, call, call.tokenExpiresAt),
  }),
  route({ method: 'POST', url: '/v1/user/logout', auth: 'user-or-admin', handler: (call) => ops.logout(call.platform, call) }),
  route({ method: 'POST', url: '/v1/user/unlink', auth: 'user-or-admin', handler: (call) => ops.unlink(call.platform, call) }),
  route({
    method: ['GET', 'POST'],
    url: '/v2/app/users',
    auth: 'app-key',
    keys: ADMIN_ONLY,
    params: AppUsersParams,
    response: userListResponseSchema,
    handler: (call, input) => ops.appUsers(call.platform, call.app, jsonParam('target_ids', input.target_ids, TargetIds)!, view(call.app, input, call.origin)),
  }),
  route({
    method: 'GET',
    url: '/v1/user/ids',
    auth: 'app-key',
    keys: ADMIN_ONLY,
    params: UserIdsParams,
    handler: (call, input) =>
      ops.userIds(
        call.platform,
        call.app,
        { limit: input.limit ?? 100, order: input.order ?? 'asc', fromId: input.from_id },
        { origin: call.origin, appKey: call.key },
      ),
  }),
  route({
    method: 'POST',
    url: '/v1/user/update_profile',
    auth: 'user-or-admin',
    params: PropertiesParams,
    handler: (call, input) => {
      const properties = jsonParam('properties', input.properties, PropertiesObject);
      if (!properties) throw invalidParam('properties is required.');
      return ops.updateProfile(call.platform, call, properties);
    },
  }),
  route({
    method: 'POST',
    url: '/v1/user/signup',
    auth: 'user',
    params: SignupParams,
    handler: (call, input) => ops.signup(call.platform, call, jsonParam('properties', input.properties, PropertiesObject)),
  }),
  route({
    method: 'GET',
    url: '/v1/user/shipping_address',
    auth: 'user-or-admin',
    params: ShippingParams,
    handler: (call, input) =>
      ops.shippingAddresses(call.platform, call, { addressId: input.address_id, fromUpdatedAt: input.from_updated_at, pageSize: input.page_size ?? 10 }),
  }),
  route({
    method: 'GET',
    url: '/v2/user/scopes',
    auth: 'user-or-admin',
    params: ScopesParams,
    handler: (call, input) => ops.scopes(call, jsonParam('scopes', input.scopes, ScopeIds)),
  }),
  route({
    method: 'POST',
    url: '/v2/user/revoke/scopes',
    auth: 'user-or-admin',
    params: RevokeScopesParams,
    handler: (call, input) => {
      const ids = jsonParam('scopes', input.scopes, ScopeIds);
      if (!ids || ids.length === 0) throw invalidParam('scopes is required.');
      return ops.revokeScopes(call.platform, call, ids);
    },
  }),
  route({
    method: 'GET',
    url: '/v2/user/service_terms',
    auth: 'user-or-admin',
    params: TermsParams,
    handler: (call, input, { raw }) => ops.serviceTerms(call, tagsParam(raw), input.result ?? 'agreed_service_terms'),
  }),
  route({
    method: 'GET',
    url: '/v1/user/service/terms',
    auth: 'user-or-admin',
    params: LegacyTermsParams,
    handler: (call, input) => {
      if (input.extra !== undefined) {
        throw invalidParam(`extra=${input.extra} is not served by Kapibara: this API answers the agreed terms only (GET /v2/user/service_terms?result=app_service_terms lists every term of the app).`);
      }
      return ops.legacyServiceTerms(call);
    },
  }),
  route({
    method: 'POST',
    url: '/v2/user/revoke/service_terms',
    auth: 'user-or-admin',
    handler: (call, _input, { raw }) => ops.revokeServiceTerms(call.platform, call, requiredTags(raw)),
  }),
  route({
    method: 'POST',
    url: '/v2/user/upgrade/service_terms',
    auth: 'user-or-admin',
    handler: (call, _input, { raw }) => ops.upgradeServiceTerms(call.platform, call, requiredTags(raw)),
  }),
  route({ method: ['GET', 'POST'], url: '/v1/oidc/userinfo', auth: 'user', handler: (call) => ops.oidcUserinfo(call, call.origin) }),
];
