import type { Product } from '../../core/product.js';
import * as migration020 from './migrations.js';
import * as migration076 from './migration-channels-by-time.js';
import * as migration079 from './migration-relations-by-kind.js';
import { channelTables } from './tables.js';
import { channelRoutes } from './routes.js';
import { channelPages, FOLLOW_PATH } from './pages.js';
import channelControlRoutes from './control.js';
import { CHANNELS_PATH, channelConsolePages, channelSection } from './console.js';
import { CHANNEL_CONSENT } from './operations.js';

/**
 * Kakao Talk Channel (seed 002's Channel table, products notes §2): channels owned by apps,
 * people's relations to them, customer files; the add, chat and follow pages.
 */
export const channel: Product = {
  name: 'channel',
  routes: channelRoutes,
  pages: channelPages,
  control: channelControlRoutes,
  migrations: { '020_channel': migration020, '076_channels_by_time': migration076, '079_channel_relations_by_kind': migration079 },
  tables: channelTables,
  console: channelSection,
  consolePages: { links: [{ path: CHANNELS_PATH, title: 'Kakao Talk Channels' }], plugin: channelConsolePages },
  consentItems: [{ id: CHANNEL_CONSENT, display_name: 'Kakao Talk Channel addition status and details', type: 'SERVICE' }],
  surfaces: [
    { prefix: '/v1/talkchannel/', surface: 'kapi' },
    { prefix: FOLLOW_PATH, surface: 'page' },
  ],
};

/** What Kakao Login's consent page uses to add channels (`channel_public_id`, Kakao Sync). */
export { type OfferedChannel, addChannel, channelsNotRelated, linkedChannels } from './operations.js';
