import type { Product } from '../../core/product.js';
import * as migration006 from './migration-rowid.js';
import * as migration007 from './migration-templates-per-app.js';
import * as migration009 from './migration-ids.js';
import { messageTables } from './tables.js';
import { messageRoutes } from './routes.js';
import messageControlRoutes from './control.js';
import { talkChatsSection } from './console.js';

/** Kakao Talk messaging (seed 001): send to me and to friends; custom templates; quotas; chats. */
export const message: Product = {
  name: 'message',
  routes: messageRoutes,
  control: messageControlRoutes,
  migrations: {
    '006_talk_message_rowid': migration006, '007_talk_templates_per_app': migration007,
    '009_talk_message_ids': migration009,
  },
  tables: messageTables,
  console: talkChatsSection,
  consentItems: [{ id: 'talk_message', display_name: 'Sending message in KakaoTalk', type: 'SERVICE' }],
};
