import { Type } from '@sinclair/typebox';
import { ADMIN_ONLY } from '../../core/auth.js';
import { route } from '../../core/route.js';
import * as ops from './operations.js';

/** Push (seed 002's Push table, products notes §3): the v2 paths and the v1 ones still in use (FL-old). */

const TokensResponse = Type.Array(
  Type.Object({
    user_id: Type.Optional(Type.String()),
    uuid: Type.String(),
    device_id: Type.String(),
    push_type: Type.String(),
    push_token: Type.String(),
    created_at: Type.String(),
    updated_at: Type.String(),
  }),
);

export const pushRoutes = (['v1', 'v2'] as const).flatMap((version) => [
  route({
    method: 'POST',
    url: `/${version}/push/register`,
    auth: 'app-key',
    keys: ADMIN_ONLY,
    params: ops.RegisterParams,
    response: Type.Integer(),
    handler: (call, input) => ops.register(call, input),
  }),
  route({
    method: ['GET', 'POST'],
    url: `/${version}/push/tokens`,
    auth: 'app-key',
    keys: ADMIN_ONLY,
    params: ops.TokensParams,
    response: TokensResponse,
    handler: (call, input) => ops.tokens(call, input, version),
  }),
  route({
    method: 'POST',
    url: `/${version}/push/deregister`,
    auth: 'app-key',
    keys: ADMIN_ONLY,
    params: ops.DeregisterParams,
    response: Type.Integer(),
    handler: (call, input) => ops.deregister(call, input),
  }),
  route({
    method: 'POST',
    url: `/${version}/push/send`,
    auth: 'app-key',
    keys: ADMIN_ONLY,
    params: ops.SendParams,
    response: 'empty',
    handler: (call, input) => ops.send(call, input),
  }),
]);
