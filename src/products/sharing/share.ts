import { Type } from '@sinclair/typebox';
import { KakaoApiError, invalidParam, notTalkUser } from '../../core/errors.js';
import { isAllowedUrl } from '../../core/fetcher.js';
import { randomToken, sha256 } from '../../core/ids.js';
import type { App } from '../../core/model.js';
import { jsonParam } from '../../core/params.js';
import type { Platform } from '../../core/platform.js';
import type { Account } from '../../store/accounts.js';
import { findAppById } from '../../store/apps.js';
import { asAfterDeletes } from '../../db/dialect.js';
import { DeliveryRaced, type GroupChat, type Json, type NewMessage, type Recipients, findGroupChats, listGroupChats, sendAsAfterDeletes } from '../message/index.js';
import { type RequestRow, type TalkFriend, bindRequest, findRequest, insertRequest, markSent, talkFriends, talkFriendsAmong, unmarkSent } from './store.js';
import { type ValidationAction, validateShare } from './validation.js';
import { callerOrigin, domainMismatched } from '../../core/auth.js';
import { callWebhook } from './webhook.js';

/**
 * The web sharer (sharer.kakao.com, products notes §1.4–1.5): a share request from an SDK
 * is validated and kept under a short key; the signed-in person picks chats ("me", friends,
 * group chats) and sends; each chosen chat gets the message, and with serverCallbackArgs the
 * app's success webhook is called for each.
 */

/** The fields every SDK sends (POST form or query): app_key, ka, validation_action, validation_params, lcba. */
export interface SharerFields {
  app_key?: string;
  ka?: string;
  validation_action?: string;
  validation_params?: string;
  lcba?: string;
}

/** Where the request came from: the app page's origin (Origin header, else Referer). */
export interface SharerCaller {
  origin?: string;
  referer?: string;
}

/** A share waits this long for the person to sign in and pick chats. */
export const SHARE_TTL_MS = 30 * 60 * 1000;
/** At most this many chats per share. */
export const MAX_CHATS = 10;

const ACTIONS: readonly ValidationAction[] = ['default', 'custom', 'scrap'];
const ValidationParams = Type.Object({
  link_ver: Type.Optional(Type.String()),
  template_object: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  template_id: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.String({ pattern: '^\\d{1,16}$' })])),
  template_args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  request_url: Type.Optional(Type.String()),
});
const CallbackArgs = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]));

export interface OpenedShare {
  shortKey: string;
  app: App;
}

/** Validates a share request and keeps it for the picker. Kakao errors for every refusal. */
export async function openShare(platform: Platform, fields: SharerFields, caller: SharerCaller): Promise<OpenedShare> {
  if (!fields.app_key) throw new KakaoApiError(-401, 'app_key is required.', 401);
  const appKey = fields.app_key;
  const found = await sharerApp(platform, appKey);
  const app = found.app;
  const opener = openerOrigin(app, found.keyType, caller, fields.ka);
  const action = fields.validation_action as ValidationAction;
  if (!ACTIONS.includes(action)) throw invalidParam(`invalid validation_action: must be one of ${ACTIONS.join(', ')}.`);
  const params = jsonParam('validation_params', fields.validation_params, ValidationParams);
  if (params === undefined) throw invalidParam('validation_params is required.');
  const callbackArgs = jsonParam('lcba', fields.lcba, CallbackArgs);
  const shortKey = randomToken(24);
  // The app deleted since its key was looked up: the template it issues or the request it
  // keeps is refused by its foreign key, and the share answers as one opened after the delete.
  await asAfterDeletes(async () => {
    const validation = await validateShare(platform, app, {
      action,
      linkVer: params.link_ver,
      templateObject: params.template_object === undefined ? undefined : JSON.stringify(params.template_object),
      templateId: params.template_id === undefined ? undefined : Number(params.template_id),
      templateArgs: params.template_args === undefined ? undefined : JSON.stringify(params.template_args),
      requestUrl: params.request_url,
    });
    const now = platform.clock.now();
    await insertRequest(platform.db, shortKey, {
      app_id: app.id,
      action,
      template_id: validation.templateId,
      template_type: validation.templateType,
      template: JSON.stringify(validation.template),
      callback_args: callbackArgs === undefined ? null : JSON.stringify(Object.fromEntries(Object.entries(callbackArgs).map(([k, v]) => [k, String(v)]))),
      opener_origin: opener ?? null,
      session_hash: null,
      form_token_hash: null,
      created_at: now,
      expires_at: now + SHARE_TTL_MS,
      sent_at: null,
    });
  }, () => sharerApp(platform, appKey));
  return { shortKey, app };
}

/** The app whose JavaScript or native key opened the sharer (-401 `invalid app key.` otherwise). */
async function sharerApp(platform: Platform, appKey: string) {
  const found = await platform.directory.appByKey(appKey);
  if (!found || (found.keyType !== 'javascript' && found.keyType !== 'native')) throw new KakaoApiError(-401, 'invalid app key.', 401);
  return found;
}

/**
 * The app page that opened the sharer, told when the message is sent: with a JavaScript
 * key it must be one of the app's web domains (-401 `domain mismatched!` otherwise).
 */
function openerOrigin(app: App, keyType: string, caller: SharerCaller, ka: string | undefined): string | undefined {
  let referer: string | undefined;
  try {
    referer = caller.referer ? new URL(caller.referer).origin : undefined;
  } catch {
    referer = undefined;
  }
  // What the browser set (Origin; a top-level GET such as SDK v1's easylink has only a
  // Referer) before what the page wrote (KA): a page elsewhere can write any KA.
  const origin = (caller.origin && caller.origin !== 'null' ? caller.origin : undefined) ?? referer ?? callerOrigin(undefined, ka);
  if (origin === undefined) return undefined;
  let ok = false;
  try {
    const url = new URL(origin);
    ok = (url.protocol === 'http:' || url.protocol === 'https:') && isAllowedUrl(url, app.webDomains);
  } catch {
    ok = false;
  }
  if (ok) return new URL(origin).origin;
  if (keyType === 'javascript') throw domainMismatched(origin);
  return undefined;
}

export interface Picker {
  request: RequestRow;
  app: App;
  template: Json;
  friends: TalkFriend[];
  groups: GroupChat[];
  /** The token the picker form carries, bound to this share and login session. */
  formToken: string;
}

export class ShareGone extends Error {}

async function pendingShare(platform: Platform, shortKey: string | undefined): Promise<{ request: RequestRow; app: App }> {
  const request = shortKey ? await findRequest(platform.db, shortKey, platform.clock.now()) : undefined;
  if (!request) throw new ShareGone('This share has expired or does not exist. Share again from the app.');
  if (request.sent_at !== null) throw new ShareGone('This message was already sent.');
  const app = await findAppById(platform.db, Number(request.app_id));
  if (!app) throw new ShareGone('The app of this share no longer exists.');
  return { request, app };
}

/** The picker for the signed-in person: the preview, their Kakao Talk friends, group chats and "me". */
export async function openPicker(platform: Platform, shortKey: string | undefined, person: Account, session: string): Promise<Picker> {
  const { request, app } = await pendingShare(platform, shortKey);
  // Sharing is the person's own Kakao Talk: without it there is no chat to pick (-501, as the APIs).
  if (!person.talkUser) throw notTalkUser();
  const formToken = randomToken(24);
  await bindRequest(platform.db, shortKey!, session, formToken);
  const [friends, groups] = await Promise.all([talkFriends(platform.db, person.id), listGroupChats(platform.db, person.id)]);
  return { request, app, template: JSON.parse(request.template), friends, groups, formToken };
}

export type Receiver = { kind: 'memo' } | { kind: 'friend'; accountId: number } | { kind: 'group'; chatId: number };

/** `me`, `f<account id>`, `g<group chat id>`, as the picker's checkboxes send them. */
export function parseReceivers(values: string[]): Receiver[] | undefined {
  const out: Receiver[] = [];
  for (const v of new Set(values)) {
    if (v === 'me') out.push({ kind: 'memo' });
    else if (/^f\d{1,16}$/.test(v)) out.push({ kind: 'friend', accountId: Number(v.slice(1)) });
    else if (/^g\d{1,16}$/.test(v)) out.push({ kind: 'group', chatId: Number(v.slice(1)) });
    else return undefined;
  }
  return out;
}

export class SendRefused extends Error {}

export interface Sent {
  app: App;
  openerOrigin: string | null;
  chats: { type: 'MemoChat' | 'DirectChat' | 'MultiChat'; title: string }[];
}

/** Sends the share to the chosen chats (once), then calls the success webhook for each when lcba was given. */
export async function sendShare(
  platform: Platform,
  input: { shortKey: string | undefined; formToken: string | undefined; session: string; person: Account; receivers: string[] },
): Promise<Sent> {
  const { request, app } = await pendingShare(platform, input.shortKey);
  if (!input.person.talkUser) throw notTalkUser();
  if (!input.formToken || request.form_token_hash !== sha256(input.formToken) || request.session_hash !== sha256(input.session)) {
    throw new SendRefused('This form was not shown to you in this browser (its security token does not match). Share again from the app.');
  }
  const receivers = parseReceivers(input.receivers);
  if (!receivers) throw new SendRefused('Pick chats from the list.');
  if (receivers.length === 0) throw new SendRefused('Pick at least one chat.');
  if (receivers.length > MAX_CHATS) throw new SendRefused(`Pick at most ${MAX_CHATS} chats.`);
  const person = input.person;
  let chosen = await chosenChats(platform, person, receivers);
  const now = platform.clock.now();
  // Marked before it is delivered, so that a share sent twice at once is delivered once; a
  // delivery that stores nothing unmarks it, so that it can be sent again.
  if (!(await markSent(platform.db, input.shortKey!, now))) throw new ShareGone('This message was already sent.');
  const message: NewMessage = {
    appId: app.id,
    senderAccountId: person.id,
    templateType: request.template_type,
    templateId: Number(request.template_id),
    template: JSON.parse(request.template),
  };
  // Every chosen chat gets the message in one delivery, all or none. A friend or group member
  // deleted while it was under way: the chats are read again and the share answers as one
  // sent after the delete (a friend gone: refused on the picker; a member gone: the group
  // gets it without them).
  try {
    let attempts = 0;
    await sendAsAfterDeletes(platform, message, async (deliverNow) => {
      if (attempts++ > 0) chosen = await chosenChats(platform, person, receivers);
      await deliverNow(chosen.recipients, now);
    });
  } catch (err) {
    await unmarkSent(platform.db, input.shortKey!);
    if (err instanceof DeliveryRaced) {
      throw new SendRefused('People in the chosen chats were deleted while the message was being sent, and nothing was sent. Pick the chats and send it again.');
    }
    throw err;
  }
  const { sent, hooks } = chosen;
  if (request.callback_args !== null) {
    const callbackArgs = JSON.parse(request.callback_args) as Record<string, string>;
    for (const h of hooks) {
      // The webhook never holds up the person's send; each call is recorded when it ends (or
      // when the server closes: it is stopped then). A record refused because the app was
      // deleted meanwhile is not kept.
      platform.background.start(
        (closing) =>
          callWebhook(
            platform,
            { app, accountId: person.id, callbackArgs, chatType: h.chatType, hashChatId: hashChatId(app.id, h.chatKey), templateId: message.templateId! },
            closing,
          ),
        () => undefined,
      );
    }
  }
  return { app, openerOrigin: request.opener_origin, chats: sent };
}

/**
 * The chosen chats as they are now (refused unless each is the person's), and how each is
 * reported. Only the chosen ones are read (at most MAX_CHATS, each by its key), never every
 * friend and group chat of the person.
 */
async function chosenChats(platform: Platform, person: Account, receivers: Receiver[]) {
  const friendIds = receivers.flatMap((r) => (r.kind === 'friend' ? [r.accountId] : []));
  const chatIds = receivers.flatMap((r) => (r.kind === 'group' ? [r.chatId] : []));
  const [friends, groups] = await Promise.all([talkFriendsAmong(platform.db, person.id, friendIds), findGroupChats(platform.db, chatIds)]);
  const friendById = new Map(friends.map((f) => [f.accountId, f]));
  const groupById = new Map(groups.filter((g) => g.memberAccountIds.includes(person.id)).map((g) => [g.id, g]));
  for (const r of receivers) {
    if (r.kind === 'friend' && !friendById.has(r.accountId)) throw new SendRefused('One of the chosen friends is not your Kakao Talk friend.');
    if (r.kind === 'group' && !groupById.has(r.chatId)) throw new SendRefused('You are not a member of one of the chosen group chats.');
  }
  const recipients: { memo: boolean; direct: number[]; groups: GroupChat[] } = { memo: false, direct: [], groups: [] };
  const sent: Sent['chats'] = [];
  const hooks: { chatType: string; chatKey: string }[] = [];
  for (const r of receivers) {
    if (r.kind === 'memo') {
      recipients.memo = true;
      sent.push({ type: 'MemoChat', title: person.nickname });
      hooks.push({ chatType: 'MemoChat', chatKey: `memo:${person.id}` });
    } else if (r.kind === 'friend') {
      recipients.direct.push(r.accountId);
      sent.push({ type: 'DirectChat', title: friendById.get(r.accountId)!.nickname });
      hooks.push({ chatType: 'DirectChat', chatKey: `direct:${Math.min(person.id, r.accountId)}:${Math.max(person.id, r.accountId)}` });
    } else {
      const group = groupById.get(r.chatId)!;
      recipients.groups.push(group);
      sent.push({ type: 'MultiChat', title: group.title });
      hooks.push({ chatType: 'MultiChat', chatKey: `group:${group.id}` });
    }
  }
  return { recipients: recipients as Recipients, sent, hooks };
}

/** HASH_CHAT_ID: the chat as the app may know it, the same chat always the same value within an app. */
export function hashChatId(appId: number, chatKey: string): string {
  return sha256(`${appId}:${chatKey}`).slice(0, 32);
}
