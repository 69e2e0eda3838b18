import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { ADMIN_ONLY, checkCaller } from '../../core/auth.js';
import { route } from '../../core/route.js';
import * as ops from './operations.js';

/** Kakao Talk Channel APIs (seed 002's Channel table; wire facts §4.5; products notes §2). */

const Opt = Type.Optional;
const RelationJson = Type.Object({
  channel_uuid: Type.String(),
  channel_public_id: Type.String(),
  relation: Type.String(),
  created_at: Opt(Type.String()),
  updated_at: Opt(Type.String()),
});
const RelationsResponse = Type.Object({ user_id: Type.Integer(), channels: Type.Array(RelationJson) });
const MultiResponse = Type.Array(RelationsResponse);
const FileUsersResponse = Type.Object({ file_id: Type.Integer(), request_count: Type.Integer(), success_count: Type.Integer() });
const FilesResponse = Type.Array(
  Type.Object({
    file_id: Type.Integer(),
    file_name: Type.String(),
    schema: Type.Record(Type.String(), Type.String()),
    user_count: Type.Integer(),
    created_at: Type.String(),
    updated_at: Type.String(),
  }),
);

const RelationsQuery = Type.Object({ channel_ids: Opt(Type.String()), channel_id_type: Opt(Type.String()) });
const LegacyQuery = Type.Object({ channel_public_ids: Opt(Type.String()), channel_id_type: Opt(Type.String()) });
const PlusFriendsQuery = Type.Object({ plus_friend_public_ids: Opt(Type.String()) });
const MultiQuery = Type.Object({
  target_id_type: Type.Literal('user_id'),
  target_ids: Type.String(),
  channel_ids: Opt(Type.String()),
  channel_id_type: Opt(Type.String()),
});
const FilesQuery = Type.Object({ channel_public_id: Type.String() });

/** Customer-file calls carry JSON bodies; their checks are the operation's (operations.jsonBody). */
const jsonRequest = async (req: FastifyRequest) => ({ contentType: req.headers['content-type'], value: req.body as unknown });
const FILE_KEYS = ['rest_api', 'admin'] as const;
/** The keys the SDKs hold: native in apps, JavaScript in a web view (Flutter web). */
const SDK_KEYS = ['native', 'javascript'] as const;

export const channelRoutes = [
  route({
    method: 'GET',
    url: '/v2/api/talk/channels',
    auth: 'user-or-admin',
    apiType: ops.RELATIONS_API_TYPE,
    scopes: [ops.CHANNEL_CONSENT],
    params: RelationsQuery,
    response: RelationsResponse,
    handler: (call, input) => ops.personRelations(call, ops.channelIdsParam(input.channel_ids, 'channel_ids'), input.channel_id_type),
  }),
  route({
    method: 'GET',
    url: '/v1/api/talk/channels',
    auth: 'user-or-admin',
    apiType: ops.RELATIONS_API_TYPE,
    scopes: [ops.CHANNEL_CONSENT],
    params: LegacyQuery,
    response: RelationsResponse,
    handler: (call, input) => ops.personRelations(call, ops.channelIdsParam(input.channel_public_ids, 'channel_public_ids'), input.channel_id_type),
  }),
  // The relation API under its Plus Friend name, as Kakao's SDK v1 still sends it (its API
  // list: `plus_friend_public_ids`, an array, which the SDK sends as its JSON text). Served
  // as the legacy /v1/api/talk/channels; that the answer is the channel shape is a guess
  // (docs/channel.md).
  route({
    method: 'GET',
    url: '/v1/api/talk/plusfriends',
    auth: 'user-or-admin',
    apiType: ops.RELATIONS_API_TYPE,
    scopes: [ops.CHANNEL_CONSENT],
    params: PlusFriendsQuery,
    response: RelationsResponse,
    handler: (call, input) => ops.personRelations(call, ops.channelIdsParam(input.plus_friend_public_ids, 'plus_friend_public_ids'), undefined),
  }),
  route({
    method: 'GET',
    url: '/v2/api/talk/channels/multi',
    auth: 'app-key',
    keys: ADMIN_ONLY,
    params: MultiQuery,
    response: MultiResponse,
    handler: (call, input) => ops.multiRelations(call, input),
  }),
  route({
    method: 'POST',
    url: '/v1/app/validate/sdk',
    auth: 'app-key',
    keys: SDK_KEYS,
    params: Type.Object({ quota_properties: Opt(Type.String()) }),
    response: Type.Object({}),
    handler: (call, input) => {
      checkCaller(call);
      return ops.validateSdk(call, input.quota_properties);
    },
  }),
  route({
    method: 'POST',
    url: '/v1/talkchannel/create/target_user_file',
    auth: 'app-key',
    keys: FILE_KEYS,
    body: jsonRequest,
    jsonBody: true,
    response: Type.Object({ file_id: Type.Integer() }),
    handler: (call, _input, { body }) => ops.createFile(call, ops.jsonBody(ops.CreateFileBody, body.contentType, body.value)),
  }),
  route({
    method: 'GET',
    url: '/v1/talkchannel/target_user_file',
    auth: 'app-key',
    keys: FILE_KEYS,
    params: FilesQuery,
    response: FilesResponse,
    handler: (call, input) => ops.listFiles(call, input.channel_public_id),
  }),
  route({
    method: 'POST',
    url: '/v1/talkchannel/update/target_users',
    auth: 'app-key',
    keys: FILE_KEYS,
    body: jsonRequest,
    jsonBody: true,
    response: FileUsersResponse,
    handler: (call, _input, { body }) => ops.updateUsers(call, ops.jsonBody(ops.UpdateUsersBody, body.contentType, body.value)),
  }),
  route({
    method: 'POST',
    url: '/v1/talkchannel/delete/target_users',
    auth: 'app-key',
    keys: FILE_KEYS,
    body: jsonRequest,
    jsonBody: true,
    response: FileUsersResponse,
    handler: (call, _input, { body }) => ops.deleteUsers(call, ops.jsonBody(ops.DeleteUsersBody, body.contentType, body.value)),
  }),
];
