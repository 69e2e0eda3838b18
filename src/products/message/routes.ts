import { Type } from '@sinclair/typebox';
import type { RawParams } from '../../core/params.js';
import { validateParams } from '../../core/params.js';
import { route } from '../../core/route.js';
import { type MessageRequest, sendMemo, sendToFriends } from './operations.js';
import type { ArgsParam } from './templates.js';

/** Kakao Talk messaging (seed 001, seed 002 Message table): literal Kakao paths. */

const Str = Type.Optional(Type.String());
// Ids past 2^53 are not ids (and past 2^63 no database column holds them).
const Id = Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }));

const DefaultParams = Type.Object({ template_object: Str, receiver_uuids: Str });
const CustomParams = Type.Object({ template_id: Id, template_args: Str, args: Str, receiver_uuids: Str });
const ScrapParams = Type.Object({ request_url: Str, template_id: Id, template_args: Str, args: Str, receiver_uuids: Str });

type Kind = MessageRequest['kind'];

const MemoResponse = Type.Object({ result_code: Type.Integer() });
const FriendsResponse = Type.Object({
  successful_receiver_uuids: Type.Array(Type.String()),
  failure_info: Type.Optional(Type.Array(Type.Object({ code: Type.Integer(), msg: Type.String(), receiver_uuids: Type.Array(Type.String()) }))),
});

/** `args` is the older name of `template_args` on the memo page of seed 001 (`template_args` wins). */
const argsParam = (p: { template_args?: string }): ArgsParam => (p.template_args !== undefined ? 'template_args' : 'args');

function messageRequest(kind: Kind, raw: RawParams): { request: MessageRequest; receivers: string | undefined } {
  if (kind === 'default') {
    const p = validateParams(DefaultParams, raw);
    return { request: { kind, templateObject: p.template_object }, receivers: p.receiver_uuids };
  }
  if (kind === 'custom') {
    const p = validateParams(CustomParams, raw);
    return { request: { kind, templateId: p.template_id, templateArgs: p.template_args ?? p.args, argsParam: argsParam(p) }, receivers: p.receiver_uuids };
  }
  const p = validateParams(ScrapParams, raw);
  return {
    request: { kind, requestUrl: p.request_url, templateId: p.template_id, templateArgs: p.template_args ?? p.args, argsParam: argsParam(p) },
    receivers: p.receiver_uuids,
  };
}

const KINDS: { kind: Kind; memo: string; friends: string; memoApi: string; friendsApi: string }[] = [
  {
    kind: 'default',
    memo: '/v2/api/talk/memo/default/send',
    friends: '/v1/api/talk/friends/message/default/send',
    memoApi: 'TALK_MEMO_DEFAULT_SEND',
    friendsApi: 'TALK_MESSAGE_DEFAULT_SEND',
  },
  {
    kind: 'custom',
    memo: '/v2/api/talk/memo/send',
    friends: '/v1/api/talk/friends/message/send',
    memoApi: 'TALK_MEMO_SEND',
    friendsApi: 'TALK_MESSAGE_SEND',
  },
  {
    kind: 'scrap',
    memo: '/v2/api/talk/memo/scrap/send',
    friends: '/v1/api/talk/friends/message/scrap/send',
    memoApi: 'TALK_MEMO_SCRAP_SEND',
    friendsApi: 'TALK_MESSAGE_SCRAP_SEND',
  },
];

export const messageRoutes = KINDS.flatMap((k) => [
  route({
    method: 'POST',
    url: k.memo,
    auth: 'user',
    apiType: k.memoApi,
    scopes: ['talk_message'],
    response: MemoResponse,
    handler: (call, _input, { raw }) => sendMemo(call.platform, call, messageRequest(k.kind, raw).request),
  }),
  route({
    method: 'POST',
    url: k.friends,
    auth: 'user',
    apiType: k.friendsApi,
    scopes: ['talk_message', 'friends'],
    response: FriendsResponse,
    handler: (call, _input, { raw }) => {
      const { request, receivers } = messageRequest(k.kind, raw);
      return sendToFriends(call.platform, call, receivers, request);
    },
  }),
]);
