/**
 * Tables of Kakao Talk messaging: custom templates, quota settings, group chats, delivered
 * messages and quota counters. They were created by talk's migration 002_talk (shipped migrations are
 * never edited); later changes are message's own migrations. See src/db/schema.ts for the
 * shared conventions.
 */
import type { TableSpec } from '../../db/tables.js';
import { counterPeriodEnd } from './quota-periods.js';

/** A custom message template made by the app's developer (Message Template Builder). */
export interface TalkTemplatesTable {
  id: number;
  app_id: number;
  name: string;
  object_type: string;
  /** JSON template object with `${KEY}` placeholders. */
  template: string;
  created_at: number;
  updated_at: number;
}

/** Per-app message quota overrides (null: the platform default). */
export interface TalkMessageQuotasTable {
  app_id: number;
  sender_daily: number | null;
  sender_monthly: number | null;
  receiver_daily: number | null;
  pair_daily: number | null;
}

/**
 * A delivered message as one person's Kakao Talk shows it: a memo is in the sender's memo
 * chat (peer = the sender); a 1:1 message is stored once for each of the two people.
 */
export interface TalkMessagesTable {
  id: number;
  account_id: number;
  /** memo, direct or group. */
  chat_type: string;
  /**
   * The other side of the chat: the other person (the person themselves in the memo chat),
   * or the group chat's id (chat_type group).
   */
  peer_account_id: number;
  app_id: number;
  sender_account_id: number;
  /** feed, list, location, commerce, text, calendar, scrap. */
  template_type: string;
  /** The custom template used, if any. */
  template_id: number | null;
  /** JSON: the final template (defaults applied, arguments substituted). */
  template: string;
  created_at: number;
  /**
   * Group chats: the message's key, the same in every member's copy (an id of db/ids.ts drawn
   * as it was sent; 080); null in other chats and in copies stored before.
   */
  message_key: number | null;
}

/** Messages counted against quotas, per app and period. */
export interface TalkQuotaCountersTable {
  app_id: number;
  /** `s:<sender>:<day>`, `sm:<sender>:<month>`, `r:<receiver>:<day>`, `p:<sender>:<receiver>:<day>`. */
  counter_key: string;
  count: number;
  /** When the key's period ends (ms): the expiry sweep removes the counter a day after (065). */
  expires_at: number;
}

/** A group chat among simulated people (Kakao Talk's MultiChat), made on the control plane. */
export interface TalkGroupChatsTable {
  id: number;
  title: string;
  created_at: number;
}

export interface TalkGroupChatMembersTable {
  chat_id: number;
  account_id: number;
  /** Order of the members as given. */
  position: number;
}

export interface MessageTables {
  talk_group_chats: TalkGroupChatsTable;
  talk_group_chat_members: TalkGroupChatMembersTable;
  talk_templates: TalkTemplatesTable;
  talk_message_quotas: TalkMessageQuotasTable;
  talk_messages: TalkMessagesTable;
  talk_quota_counters: TalkQuotaCountersTable;
}

declare module '../../db/schema.js' {
  interface DB extends MessageTables {}
}

/**
 * Export/import/reset order (parents first). Messages and quota counters are append-only
 * logs (`log`): writes to them leave the change stamp alone, so nothing kept in memory is
 * derived from them.
 */
export const messageTables: TableSpec[] = [
  { name: 'talk_templates', json: ['template'] },
  { name: 'talk_message_quotas', json: [] },
  { name: 'talk_group_chats', json: [] },
  { name: 'talk_group_chat_members', json: [] },
  { name: 'talk_messages', json: ['template'], log: true, idSequence: 'talk_messages_id_seq', issuedIds: ['message_key'] },
  // Counters of periods past go with the expiry sweep; rows of older exports take the end of
  // their key's period.
  {
    name: 'talk_quota_counters',
    json: [],
    log: true,
    expiresAt: 'expires_at',
    derived: { expires_at: (row) => (typeof row.counter_key === 'string' ? counterPeriodEnd(row.counter_key) : undefined) },
  },
];
