import { Type } from '@sinclair/typebox';
import { KakaoApiError, invalidParam, notTalkUser } from '../../core/errors.js';
import type { UserCall } from '../../core/auth.js';
import type { Platform } from '../../core/platform.js';
import { jsonParam } from '../../core/params.js';
import { jsonTextProblem } from '../../core/json.js';
import { hasScope } from '../../core/scopes.js';
import { readOpenGraph, scrapForApp } from '../../core/fetcher.js';
import { findLinkByUuid } from '../../store/links.js';
import { findAccountById } from '../../store/accounts.js';
import { talkSettings } from '../talk/index.js';
import { areFriends } from '../../store/friendships.js';
import { type ArgsParam, type Json, normalizeTemplate, substitute, templateArgs } from './templates.js';
import { kstPeriods } from './quota-periods.js';
import {
  DEFAULT_QUOTAS,
  type NewMessage,
  deliver,
  findTemplate,
  quotaSettings,
  releaseCounters,
  reserveCounters,
} from './store.js';
import { type Deliver, DeliveryRaced, sendAsAfterDeletes } from './delivery.js';

/**
 * Kakao Talk messaging: "send to me" (memo) and "send to friends", each with a default
 * template, a custom template or a scrapped page (seed 001, wire facts §4.3, §4.4).
 */

const JsonObject = Type.Record(Type.String(), Type.Unknown());

/** What a send request asks for, before it becomes a message. */
export type MessageRequest =
  | { kind: 'default'; templateObject: string | undefined }
  | { kind: 'custom'; templateId: number | undefined; templateArgs: string | undefined; argsParam: ArgsParam }
  | { kind: 'scrap'; requestUrl: string | undefined; templateId: number | undefined; templateArgs: string | undefined; argsParam: ArgsParam };

/**
 * Builds the final message: validated template, defaults applied, arguments substituted, and
 * web links off the app's web domains dropped (Kakao sends the message without them, as a
 * shared message is sent).
 */
export async function composeMessage(platform: Platform, ctx: UserCall, req: MessageRequest): Promise<NewMessage> {
  const rules = { webDomains: ctx.app.webDomains, foreignLinks: 'drop' as const };
  const base = { appId: ctx.app.id, senderAccountId: ctx.account.id };
  // Each message is built as one literal (no spread): this is every send's hot path.
  if (req.kind === 'default') {
    if (req.templateObject === undefined) throw invalidParam('template_object is required.');
    const value = jsonParam('template_object', req.templateObject, JsonObject);
    if (value === undefined) throw invalidParam('template_object is required.');
    const template = normalizeTemplate(value, 'template_object', rules);
    return newMessage(base, template.object_type as string, null, template);
  }
  if (req.kind === 'custom') {
    if (req.templateId === undefined) throw invalidParam('template_id is required.');
    const args = templateArgs(req.templateArgs, req.argsParam);
    return customMessage(platform, ctx, req.templateId, args, base);
  }
  if (req.requestUrl === undefined) throw invalidParam('request_url is required.');
  // Arguments are checked before the page is fetched: a bad parameter costs no request.
  const args = req.templateId !== undefined ? templateArgs(req.templateArgs, req.argsParam) : undefined;
  const scrap = await scrapPage(req.requestUrl, ctx.app.webDomains);
  if (req.templateId !== undefined) {
    // Scrapped values cannot be overwritten by template_args (seed 001).
    return customMessage(platform, ctx, req.templateId, { ...args, ...scrap.args }, base);
  }
  return newMessage(base, 'scrap', null, scrap.template);
}

function newMessage(base: { appId: number; senderAccountId: number }, templateType: string, templateId: number | null, template: Json): NewMessage {
  return { appId: base.appId, senderAccountId: base.senderAccountId, templateType, templateId, template };
}

async function customMessage(
  platform: Platform,
  ctx: UserCall,
  templateId: number,
  args: Record<string, unknown>,
  base: { appId: number; senderAccountId: number },
): Promise<NewMessage> {
  const stored = await findTemplate(platform.db, ctx.app.id, templateId);
  if (!stored) throw invalidParam(`invalid template_id: template ${templateId} does not exist in this app.`);
  // Arguments left out are rendered empty, as sharing validation renders them.
  const { value } = substitute(stored.template, args);
  const template = normalizeTemplate(value, `template(${templateId})`, { webDomains: ctx.app.webDomains, custom: true, foreignLinks: 'drop' });
  return newMessage(base, template.object_type as string, templateId, template);
}

/** Fetches the page (registered web domains only) and reads its Open Graph data. */
export async function scrapPage(requestUrl: string, webDomains: readonly string[]): Promise<{ args: Record<string, string>; template: Json }> {
  const page = await scrapForApp(requestUrl, webDomains, 'request_url');
  const og = await readOpenGraph(page.html, page.url);
  const image = og.images[0];
  const host = new URL(requestUrl).host;
  const args: Record<string, string> = {
    SCRAP_REQUEST_URL: requestUrl,
    SCRAP_HOST: host,
    SCRAP_TITLE: og.title ?? '',
    SCRAP_DESCRIPTION: og.description ?? '',
    SCRAP_IMAGE: image?.url ?? '',
    SCRAP_IMAGE_WIDTH: image?.width !== undefined ? String(image.width) : '',
    SCRAP_IMAGE_HEIGHT: image?.height !== undefined ? String(image.height) : '',
    SCRAP_DURATION: og.duration !== undefined ? String(og.duration) : '',
  };
  const template: Json = { object_type: 'scrap', request_url: requestUrl, url: page.url, host };
  if (og.title) template.title = og.title;
  if (og.description) template.description = og.description;
  if (image) {
    template.image_url = image.url;
    if (image.width !== undefined) template.image_width = image.width;
    if (image.height !== undefined) template.image_height = image.height;
  }
  if (og.siteName) template.site_name = og.siteName;
  if (og.duration !== undefined) template.duration = og.duration;
  template.buttons = [{ title: '자세히 보기', link: { web_url: requestUrl, mobile_web_url: requestUrl } }];
  return { args, template };
}

/** Send to me: the message lands in the person's own chat. */
export async function sendMemo(platform: Platform, ctx: UserCall, req: MessageRequest): Promise<{ result_code: number }> {
  if (!ctx.account.talkUser) throw notTalkUser();
  const message = await composeMessage(platform, ctx, req);
  await deliver(platform.store, message, { memo: true }, platform.clock.now());
  return { result_code: 0 };
}

export const MAX_RECEIVERS = 5;

const RECEIVERS_CONSTRAINT = 'Constraints on the parameter [receiver_uuids] are unsatisfied.';

/** `receiver_uuids`: a JSON array of 1 to 5 uuids (duplicates are sent once); Kakao's -2 messages. */
export function parseReceivers(raw: string | undefined): string[] {
  if (raw === undefined) throw invalidParam('The Parameter [receiver_uuids] cannot be null.');
  const problem = jsonTextProblem(raw);
  if (problem) throw invalidParam(`${RECEIVERS_CONSTRAINT} ${problem}.`);
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    list = undefined;
  }
  if (!Array.isArray(list) || list.some((u) => typeof u !== 'string' || u === '')) {
    throw invalidParam(`${RECEIVERS_CONSTRAINT} The input receiver id(s) is invalid format.`);
  }
  if (list.length === 0) throw invalidParam('The Parameter [receiver_uuids] cannot be empty.');
  const unique = [...new Set(list as string[])];
  if (unique.length > MAX_RECEIVERS) throw invalidParam(`${RECEIVERS_CONSTRAINT} At most ${MAX_RECEIVERS} receivers are allowed.`);
  return unique;
}

interface Failure {
  code: number;
  msg: string;
}

const NOT_FRIEND: Failure = { code: -502, msg: 'the receiver is not a friend of the sender in this app.' };
const BLOCKED: Failure = { code: -530, msg: 'the receiver has blocked messages.' };
const SENDER_MONTHLY: Failure = { code: -531, msg: "exceeded the sender's monthly quota for sending messages." };
const SENDER_DAILY: Failure = { code: -532, msg: "exceeded the sender's daily quota for sending messages." };
const RECEIVER_DAILY: Failure = { code: -533, msg: "exceeded the receiver's daily quota for receiving messages." };
const PAIR_DAILY: Failure = { code: -536, msg: 'exceeded the daily quota for messages between this sender and receiver.' };

/** Send to friends: per receiver checks, quotas, delivery; partial success is 200. */
export async function sendToFriends(
  platform: Platform,
  ctx: UserCall,
  receiverUuids: string | undefined,
  req: MessageRequest,
): Promise<Record<string, unknown>> {
  if (!ctx.account.talkUser) throw notTalkUser();
  const uuids = parseReceivers(receiverUuids);
  const message = await composeMessage(platform, ctx, req);
  // A receiver deleted while the send is under way: checked and sent again, answered as a send
  // made after the delete (their uuid is no longer one this app issued: -2).
  try {
    return await sendAsAfterDeletes(platform, message, (deliverNow) => sendOnce(platform, ctx, uuids, message, deliverNow));
  } catch (err) {
    // Not met in practice (see DELIVERY_ATTEMPTS); a 400 that says what happened if it were.
    if (err instanceof DeliveryRaced) throw new KakaoApiError(-7, 'receivers were deleted while the message was being sent, each attempt: nothing was sent. Send it again.', 400);
    throw err;
  }
}

async function sendOnce(platform: Platform, ctx: UserCall, uuids: string[], message: NewMessage, deliverNow: Deliver): Promise<Record<string, unknown>> {
  const { db, clock } = platform;
  const sender = ctx.account.id;

  // uuids are app-specific: one this app never issued (or another app's) fails the request.
  const links = [];
  for (const uuid of uuids) {
    const link = await findLinkByUuid(db, ctx.app.id, uuid);
    if (!link) throw invalidParam(`${RECEIVERS_CONSTRAINT} Not allowed to send a message to some of receivers.`);
    if (link.accountId === sender) throw invalidParam('Cannot contain a receiver who is identical to the sender in multicast mode.');
    links.push(link);
  }

  const failures = new Map<string, Failure>();
  const receivers: { uuid: string; accountId: number }[] = [];
  for (const link of links) {
    const uuid = link.uuid;
    const account = await findAccountById(db, link.accountId);
    if (!account || !account.talkUser || !hasScope(link.scopes, 'friends') || !(await areFriends(db, sender, link.accountId))) {
      failures.set(uuid, NOT_FRIEND);
      continue;
    }
    if ((await talkSettings(db, link.accountId)).messagesBlocked) {
      failures.set(uuid, BLOCKED);
      continue;
    }
    receivers.push({ uuid, accountId: link.accountId });
  }

  const now = clock.now();
  const { day, month, dayEnds, monthEnds } = kstPeriods(now);
  const configured = await quotaSettings(db, ctx.app.id);
  const limit = (k: keyof typeof DEFAULT_QUOTAS) => configured[k] ?? DEFAULT_QUOTAS[k];
  const keys = {
    senderDay: `s:${sender}:${day}`,
    senderMonth: `sm:${sender}:${month}`,
    receiverDay: (r: number) => `r:${r}:${day}`,
    pairDay: (r: number) => `p:${sender}:${r}:${day}`,
  };
  const delivered: { uuid: string; accountId: number }[] = [];
  // Each counter with the end of its period: the expiry sweep removes it a day after.
  const counters = new Map([
    [keys.senderDay, dayEnds],
    [keys.senderMonth, monthEnds],
    ...receivers.flatMap((r) => [[keys.receiverDay(r.accountId), dayEnds] as const, [keys.pairDay(r.accountId), dayEnds] as const]),
  ]);
  // Checked and counted in one step, so concurrent sends never overshoot a quota.
  let reserved = new Map<string, number>();
  if (receivers.length > 0) {
    reserved = await reserveCounters(platform.store, ctx.app.id, counters, (counts) => {
      const increments = new Map<string, number>();
      const used = (key: string) => (counts.get(key) ?? 0) + (increments.get(key) ?? 0);
      const over = (key: string, max: number | null) => max !== null && used(key) + 1 > max;
      for (const r of receivers) {
        const failure = over(keys.senderMonth, limit('senderMonthly'))
          ? SENDER_MONTHLY
          : over(keys.senderDay, limit('senderDaily'))
            ? SENDER_DAILY
            : over(keys.receiverDay(r.accountId), limit('receiverDaily'))
              ? RECEIVER_DAILY
              : over(keys.pairDay(r.accountId), limit('pairDaily'))
                ? PAIR_DAILY
                : undefined;
        if (failure) {
          failures.set(r.uuid, failure);
          continue;
        }
        for (const key of [keys.senderMonth, keys.senderDay, keys.receiverDay(r.accountId), keys.pairDay(r.accountId)]) {
          increments.set(key, (increments.get(key) ?? 0) + 1);
        }
        delivered.push(r);
      }
      return increments;
    });
  }
  if (delivered.length > 0) {
    try {
      await deliverNow({ direct: delivered.map((r) => r.accountId) }, now);
    } catch (err) {
      // Nothing was stored (a receiver deleted meanwhile, say): quota counts only what is.
      await releaseCounters(platform.store, ctx.app.id, reserved);
      throw err;
    }
  }

  // Failures grouped by code, in the order of the request.
  const groups = new Map<number, { code: number; msg: string; receiver_uuids: string[] }>();
  for (const uuid of uuids) {
    const f = failures.get(uuid);
    if (!f) continue;
    const group = groups.get(f.code) ?? { code: f.code, msg: f.msg, receiver_uuids: [] };
    group.receiver_uuids.push(uuid);
    groups.set(f.code, group);
  }
  if (delivered.length === 0) {
    const first = groups.values().next().value!;
    throw new KakaoApiError(first.code, first.msg, 400);
  }
  const body: Record<string, unknown> = { successful_receiver_uuids: delivered.map((r) => r.uuid) };
  if (groups.size > 0) body.failure_info = [...groups.values()];
  return body;
}
