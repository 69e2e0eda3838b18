import type { Product } from '../../core/product.js';
import * as migration006 from './migration-rowid.js';
import * as migration007 from './migration-templates-per-app.js';
import * as migration009 from './migration-ids.js';
import * as migration010 from './migration-group-chats.js';
import * as migration064 from './migration-empty-group-chats.js';
import * as migration065 from './migration-quota-expiry.js';
import * as migration070 from './migration-chat-index.js';
import * as migration074 from './migration-group-chats-by-time.js';
import * as migration078 from './migration-quota-expiry-by-key.js';
import * as migration080 from './migration-group-message-keys.js';
import { messageTables } from './tables.js';
import { messageRoutes } from './routes.js';
import messageControlRoutes from './control.js';
import { messageConsolePages, talkChatsSection } from './console.js';

/** Kakao Talk messaging (seed 001): send to me and to friends; custom templates; quotas; chats and group chats. */
export const message: Product = {
  name: 'message',
  routes: messageRoutes,
  control: messageControlRoutes,
  migrations: {
    '006_talk_message_rowid': migration006,
    '007_talk_templates_per_app': migration007,
    '009_talk_message_ids': migration009,
    '010_message_group_chats': migration010,
    '064_message_empty_group_chats': migration064,
    '065_message_quota_expiry': migration065,
    '070_talk_messages_chat_by_type': migration070,
    '074_talk_group_chats_by_time': migration074,
    '078_message_quota_expiry_by_key': migration078,
    '080_message_group_message_keys': migration080,
  },
  tables: messageTables,
  console: talkChatsSection,
  consolePages: { links: [], plugin: messageConsolePages },
  consentItems: [{ id: 'talk_message', display_name: 'Sending message in KakaoTalk', type: 'SERVICE' }],
};

/**
 * What other products may use of Kakao Talk messaging (sharing builds and delivers messages
 * as a person's own Kakao Talk would): template validation and arguments, custom templates,
 * page scraps, delivery into memo, 1:1 and group chats (answered as a send made after any
 * delete that lands while it is under way), and the rendered bubble.
 */
export {
  type Json,
  type TemplateRules,
  normalizeTemplate,
  dropForeignLinks,
  substitute,
  templateArgs,
  DEFAULT_BUTTON_TITLE,
} from './templates.js';
export { scrapPage } from './operations.js';
export { DELIVERY_ATTEMPTS, DeliveryRaced, type Deliver, sendAsAfterDeletes } from './delivery.js';
export { renderTemplate } from './console.js';
export {
  type GroupChat,
  type NewMessage,
  type Recipients,
  type StoredMessage,
  deliver,
  findGroupChat,
  findGroupChats,
  findTemplate as findCustomTemplate,
  listGroupChats,
  listMessages,
} from './store.js';
