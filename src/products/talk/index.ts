import type { Product } from '../../core/product.js';
import * as migration002 from './migrations.js';
import * as migration005 from './migration-positions.js';
import * as migration063 from './migration-deleted-people.js';
import { talkTables } from './tables.js';
import { talkRoutes } from './routes.js';
import talkControlRoutes from './control.js';

/**
 * Kakao Talk Social (seed 003): the Talk profile, friends, profiles by user list; a
 * person's Talk settings and multi-profiles on the control plane.
 */
export const talk: Product = {
  name: 'talk',
  routes: talkRoutes,
  control: talkControlRoutes,
  // 002_talk also created the messaging tables, before message had a module of its own.
  migrations: { '002_talk': migration002, '005_talk_friend_positions': migration005, '063_talk_deleted_people': migration063 },
  tables: talkTables,
  consentItems: [
    { id: 'friends', display_name: 'Friends List in Kakao Service(Including profile image, nickname, and favorites)', type: 'SERVICE' },
  ],
};

/** What other products may use of Kakao Talk: a person's Talk settings (message sending reads "blocked"). */
export { getTalkSettings as talkSettings, type TalkSettings } from './store.js';
