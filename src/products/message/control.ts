import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { mustApp, mustAccount } from '../../control/lookups.js';
import { asAfterDeletes } from '../../db/dialect.js';
import { LIST_PAGE, ListQuery, TimedListQuery, pageBy, pageById, positionAfter } from '../../control/paging.js';
import { ControlError, KakaoApiError } from '../../core/errors.js';
import { isoSeconds } from '../../core/clock.js';
import { Id, LIMITS as L, Text } from '../../control/limits.js';
import { normalizeTemplate } from './templates.js';
import { CREATED, NO_CONTENT } from '../../core/http.js';
import {
  type ChatType,
  type CustomTemplate,
  type GroupChat,
  createGroupChat,
  deleteGroupChat,
  findGroupChat,
  listGroupChatsPage,
  groupChatPosition,
  DEFAULT_QUOTAS,
  type StoredMessage,
  deleteTemplate,
  findTemplate,
  insertTemplate,
  COUNT_CAP,
  countMessages,
  listChats,
  listMessages,
  messagePosition,
  groupMessagePosition,
  groupChatMessages,
  pageOfChats,
  type ChatRef,
  listTemplates,
  quotaSettings,
  saveQuotaSettings,
  templateIdUsed,
  updateTemplate,
} from './store.js';

/**
 * Message control-plane routes, mounted under /_kapibara/v1 (operator token checked there):
 * custom templates (the Message Template Builder), message quotas, and what each person's
 * Kakao Talk shows (chats and messages, newest first).
 */

const AppParams = Type.Object({ app_id: Id });
const TemplateParams = Type.Object({ app_id: Id, template_id: Id });
const AccountParams = Type.Object({ account_id: Id });
const ChatParams = Type.Object({ account_id: Id, chat: Text(L.chatId) });
/**
 * Lists of chats and messages, newest first: `before` (the `next` of the page before: a
 * message id) starts a page where the last one ended, read from the index where it starts;
 * `offset` skips that many more (costing what it skips).
 */
const Paging = Type.Object({
  before: Type.Optional(Id),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
});
const PAGE = 20;
// Stored in 32-bit integer columns.
const Limit = Type.Optional(Type.Union([Type.Null(), Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })]));

export const QuotaBody = Type.Object(
  { sender_daily: Limit, sender_monthly: Limit, receiver_daily: Limit, pair_daily: Limit },
  { additionalProperties: false },
);

const TemplateBody = Type.Object(
  {
    id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    name: Type.Optional(Text(L.templateName)),
    template: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);

function templateJson(t: CustomTemplate) {
  return {
    id: t.id,
    app_id: t.appId,
    name: t.name,
    object_type: t.objectType,
    template: t.template,
    created_at: isoSeconds(t.createdAt),
    updated_at: isoSeconds(t.updatedAt),
  };
}

/** A chat is named, from its member's side, `memo`, the friend's account id, or `g<group chat id>`. */
function chatId(chat: { type: ChatType; peerAccountId: number }): string {
  return chat.type === 'memo' ? 'memo' : chat.type === 'group' ? `g${chat.peerAccountId}` : String(chat.peerAccountId);
}

function groupChatJson(g: GroupChat) {
  return { id: g.id, title: g.title, member_account_ids: g.memberAccountIds, created_at: isoSeconds(g.createdAt) };
}

export const GroupChatBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 50 }),
    member_account_ids: Type.Array(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), { minItems: 2, maxItems: 100 }),
  },
  { additionalProperties: false },
);
const GroupChatParams = Type.Object({ chat_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const GroupChatQuery = Type.Object({ account_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })), ...TimedListQuery });

function messageJson(m: StoredMessage) {
  const out: Record<string, unknown> = {
    id: m.id,
    chat_id: chatId({ type: m.chatType, peerAccountId: m.peerAccountId }),
    chat_type: m.chatType,
    app_id: m.appId,
    sender_account_id: m.senderAccountId,
    template_type: m.templateType,
    template: m.template,
    sent_at: isoSeconds(m.createdAt),
  };
  if (m.templateId !== null) out.template_id = m.templateId;
  return out;
}

/** A stored template may hold `${KEY}` anywhere; its structure is checked now, its values at send. */
function checkTemplate(template: Record<string, unknown>, webDomains: string[]): string {
  if (JSON.stringify(template).length > L.templateJson) {
    throw new ControlError(400, `template: more than ${L.templateJson} characters of JSON (Kakao's limit on a message template)`);
  }
  try {
    normalizeTemplate(template, 'template', { webDomains, custom: true, placeholders: true });
  } catch (err) {
    if (err instanceof KakaoApiError) throw new ControlError(400, err.msg);
    throw err;
  }
  return template.object_type as string;
}

export default async function messageControlRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const db = () => app.platform.db;


  // Message quotas (per app; null: the platform default)
  async function quotaJson(appId: number) {
    const q = await quotaSettings(db(), appId);
    const effective = (k: keyof typeof DEFAULT_QUOTAS) => q[k] ?? DEFAULT_QUOTAS[k];
    return {
      sender_daily: effective('senderDaily'),
      sender_monthly: effective('senderMonthly'),
      receiver_daily: effective('receiverDaily'),
      pair_daily: effective('pairDaily'),
    };
  }
  app.get('/apps/:app_id/message_quotas', { schema: { params: AppParams } }, async (req) => {
    await mustApp(db(), req.params.app_id);
    return quotaJson(req.params.app_id);
  });
  app.put('/apps/:app_id/message_quotas', { schema: { params: AppParams, body: QuotaBody } }, async (req) => {
    await mustApp(db(), req.params.app_id);
    const current = await quotaSettings(db(), req.params.app_id);
    const pick = (v: number | null | undefined, old: number | null) => (v === undefined ? old : v);
    const settings = {
      senderDaily: pick(req.body.sender_daily, current.senderDaily),
      senderMonthly: pick(req.body.sender_monthly, current.senderMonthly),
      receiverDaily: pick(req.body.receiver_daily, current.receiverDaily),
      pairDaily: pick(req.body.pair_daily, current.pairDaily),
    };
    await asAfterDeletes(() => saveQuotaSettings(db(), req.params.app_id, settings), () => mustApp(db(), req.params.app_id));
    return quotaJson(req.params.app_id);
  });

  // Custom templates
  app.get('/apps/:app_id/templates', { schema: { params: AppParams, querystring: Type.Object(ListQuery) } }, async (req, reply) => {
    const appId = req.params.app_id;
    await mustApp(db(), appId);
    const limit = req.query.limit ?? LIST_PAGE;
    return pageById(reply, `/apps/${appId}/templates`, await listTemplates(db(), appId, req.query.after, limit + 1), limit).map(templateJson);
  });
  app.get('/apps/:app_id/templates/:template_id', { schema: { params: TemplateParams } }, async (req) => {
    const found = await findTemplate(db(), req.params.app_id, req.params.template_id);
    if (!found) throw new ControlError(404, `template ${req.params.template_id} of app ${req.params.app_id} not found`);
    return templateJson(found);
  });
  app.post('/apps/:app_id/templates', { config: CREATED, schema: { params: AppParams, body: TemplateBody } }, async (req) => {
    const target = await mustApp(db(), req.params.app_id);
    const objectType = checkTemplate(req.body.template, target.webDomains);
    const insert = (id: number) =>
      asAfterDeletes(
        () => insertTemplate(db(), { id, appId: target.id, name: req.body.name ?? `template ${id}`, objectType, template: req.body.template }, app.platform.clock.now()),
        () => mustApp(db(), target.id),
      );
    const given = req.body.id;
    if (given !== undefined) {
      const created = await insert(given);
      if (!created) throw new ControlError(409, `template id ${given} is taken in app ${target.id}`);
      return templateJson(created);
    }
    // Issued ids are new to every app; a concurrent create of the same id just draws again.
    for (;;) {
      const id = 10_000 + Math.floor(Math.random() * 990_000);
      const created = (await templateIdUsed(db(), id)) ? undefined : await insert(id);
      if (created) return templateJson(created);
    }
  });
  app.put('/apps/:app_id/templates/:template_id', { schema: { params: TemplateParams, body: TemplateBody } }, async (req) => {
    const target = await mustApp(db(), req.params.app_id);
    const found = await findTemplate(db(), target.id, req.params.template_id);
    if (!found) throw new ControlError(404, `template ${req.params.template_id} of app ${target.id} not found`);
    const objectType = checkTemplate(req.body.template, target.webDomains);
    const updated = await updateTemplate(
      db(),
      { ...found, name: req.body.name ?? found.name, objectType, template: req.body.template },
      app.platform.clock.now(),
    );
    if (!updated) {
      // Deleted since it was found, with its app or alone: the answer of a call after the delete.
      await mustApp(db(), target.id);
      throw new ControlError(404, `template ${req.params.template_id} of app ${target.id} not found`);
    }
    return templateJson(updated);
  });
  app.delete('/apps/:app_id/templates/:template_id', { config: NO_CONTENT, schema: { params: TemplateParams } }, async (req, reply) => {
    if (!(await deleteTemplate(db(), req.params.app_id, req.params.template_id))) {
      throw new ControlError(404, `template ${req.params.template_id} of app ${req.params.app_id} not found`);
    }
    return reply.send();
  });

  // Group chats among simulated people (Kakao Talk MultiChat)
  app.post('/group_chats', { config: CREATED, schema: { body: GroupChatBody } }, async (req) => {
    const members = [...new Set(req.body.member_account_ids)];
    if (members.length < 2) throw new ControlError(400, 'a group chat needs at least 2 different members');
    const lookUp = async () => {
      for (const id of members) {
        const person = await mustAccount(db(), id);
        if (!person.talkUser) throw new ControlError(400, `account ${id} does not use Kakao Talk: it cannot be in a group chat`);
      }
    };
    await lookUp();
    const chat = await asAfterDeletes(() => createGroupChat(db(), req.body.title, members, app.platform.clock.now()), lookUp);
    return groupChatJson(chat);
  });
  /**
   * Newest first (time, then id), a page at a time: `after` and `after_time` are the id and
   * time of the last chat of the page before, a place that stays when it is deleted (`after`
   * alone, an earlier version's Link: its time is looked up, and once deleted it names none: 400).
   */
  app.get('/group_chats', { schema: { querystring: GroupChatQuery } }, async (req, reply) => {
    const { account_id: accountId, after } = req.query;
    if (accountId !== undefined) await mustAccount(db(), accountId);
    const at = await positionAfter(
      req.query,
      ['after'],
      (createdAt) => ({ createdAt, id: after! }),
      () => groupChatPosition(db(), after!),
      () => `after: group chat ${after} not found`,
    );
    const limit = req.query.limit ?? LIST_PAGE;
    const path = accountId === undefined ? '/group_chats' : `/group_chats?account_id=${accountId}`;
    const rows = await listGroupChatsPage(db(), accountId, at, limit + 1);
    return pageBy(reply, path, rows, limit, (last) => ({ after: last.id, after_time: last.createdAt })).map(groupChatJson);
  });
  app.get('/group_chats/:chat_id', { schema: { params: GroupChatParams } }, async (req) => {
    const chat = await findGroupChat(db(), req.params.chat_id);
    if (!chat) throw new ControlError(404, `group chat ${req.params.chat_id} not found`);
    return groupChatJson(chat);
  });
  app.get('/group_chats/:chat_id/messages', { schema: { params: GroupChatParams, querystring: Paging } }, async (req) => {
    const chat = await findGroupChat(db(), req.params.chat_id);
    if (!chat) throw new ControlError(404, `group chat ${req.params.chat_id} not found`);
    // Every member holds the same messages; the first member's copy stands for the chat. A
    // page's `next` is the message's key, in every member's copy: it goes on from the next
    // member's copies when the first member is deleted.
    const first = chat.memberAccountIds[0];
    const { before } = req.query;
    const at = before === undefined ? undefined : await groupMessagePosition(db(), chat.id, first, before);
    if (before !== undefined && !at) throw new ControlError(400, `before: group chat ${chat.id} has no message ${before}`);
    const limit = req.query.limit ?? PAGE;
    const [rows, total] = await Promise.all([
      groupChatMessages(db(), chat.id, first, { before: at, offset: req.query.offset }, limit + 1),
      countMessages(db(), first, { type: 'group', peer: chat.id }),
    ]);
    return pageJson(rows, total, limit, (last) => last.key);
  });
  app.delete('/group_chats/:chat_id', { config: NO_CONTENT, schema: { params: GroupChatParams } }, async (req, reply) => {
    if (!(await deleteGroupChat(db(), req.params.chat_id))) throw new ControlError(404, `group chat ${req.params.chat_id} not found`);
    return reply.send();
  });

  /** The position `before` names: a message of `accountId`'s, or 400. */
  async function positionOf(accountId: number, before: number | undefined) {
    if (before === undefined) return undefined;
    const at = await messagePosition(db(), accountId, before);
    if (!at) throw new ControlError(400, `before: account ${accountId} has no message ${before}`);
    return at;
  }

  /** Counts stop at COUNT_CAP (docs/messages.md): `total_count_capped` says when there are more. */
  function capped(n: number, field: string) {
    return n > COUNT_CAP ? { [field]: COUNT_CAP, [`${field}_capped`]: true } : { [field]: n };
  }

  async function messagePage(accountId: number, which: ChatRef | undefined, query: { before?: number; offset?: number; limit?: number }) {
    const limit = query.limit ?? PAGE;
    const before = await positionOf(accountId, query.before);
    const [rows, total] = await Promise.all([listMessages(db(), accountId, which, { before, offset: query.offset }, limit + 1), countMessages(db(), accountId, which)]);
    return pageJson(rows, total, limit, (last) => last.id);
  }

  /** A page of messages read one more than `limit` (whether more follow), and `next`: what names its last message. */
  function pageJson<T extends StoredMessage>(rows: T[], total: number, limit: number, next: (last: T) => number) {
    const messages = rows.slice(0, limit);
    return {
      ...capped(total, 'total_count'),
      messages: messages.map(messageJson),
      ...(rows.length > limit ? { next: next(messages[messages.length - 1]) } : {}),
    };
  }

  // What a person's Kakao Talk shows: chats (latest activity first) and messages (newest first)
  app.get('/accounts/:account_id/chats', { schema: { params: AccountParams, querystring: Paging } }, async (req) => {
    const accountId = req.params.account_id;
    await mustAccount(db(), accountId);
    const limit = req.query.limit ?? PAGE;
    const [all, before] = await Promise.all([listChats(db(), accountId), positionOf(accountId, req.query.before)]);
    const page = pageOfChats(all, before, req.query.offset ?? 0, limit + 1);
    const shown = page.slice(0, limit);
    const counts = await Promise.all(shown.map((c) => countMessages(db(), accountId, { type: c.type, peer: c.peerAccountId })));
    return {
      total_count: all.length,
      chats: shown.map((c, i) => ({
        id: chatId(c),
        type: c.type,
        peer_account_id: c.peerAccountId,
        ...capped(counts[i], 'message_count'),
        last_message_at: isoSeconds(c.lastMessageAt),
        first_message_at: isoSeconds(c.firstMessageAt),
      })),
      ...(page.length > limit ? { next: shown[shown.length - 1].lastMessageId } : {}),
    };
  });
  app.get('/accounts/:account_id/chats/:chat/messages', { schema: { params: ChatParams, querystring: Paging } }, async (req) => {
    const accountId = req.params.account_id;
    await mustAccount(db(), accountId);
    const chat = req.params.chat;
    if (chat !== 'memo' && !(/^g?\d{1,16}$/.test(chat) && Number.isSafeInteger(Number(chat.replace(/^g/, ''))))) {
      throw new ControlError(400, 'chat must be "memo", the account id of the friend, or g<group chat id>');
    }
    const ref = chat === 'memo' ? { type: 'memo' as const, peer: accountId } : chat.startsWith('g') ? { type: 'group' as const, peer: Number(chat.slice(1)) } : { type: 'direct' as const, peer: Number(chat) };
    return messagePage(accountId, ref, req.query);
  });
  app.get('/accounts/:account_id/messages', { schema: { params: AccountParams, querystring: Paging } }, async (req) => {
    const accountId = req.params.account_id;
    await mustAccount(db(), accountId);
    return messagePage(accountId, undefined, req.query);
  });
}
