import type { Product } from '../../core/product.js';
import * as migration011 from './migrations.js';
import { sharingTables } from './tables.js';
import { sharingPages, sharingRoutes } from './routes.js';
import sharingControlRoutes from './control.js';
import { sharingSection } from './console.js';

/**
 * Kakao Talk sharing (seed 004): validation for the SDKs, images, the web sharer (picker)
 * and the success webhook. Messages land in the chats of the message product.
 */
export const sharing: Product = {
  name: 'sharing',
  routes: sharingRoutes,
  pages: sharingPages,
  control: sharingControlRoutes,
  migrations: { '011_sharing': migration011 },
  tables: sharingTables,
  console: sharingSection,
  surfaces: [
    { prefix: '/picker/', surface: 'page' },
    { prefix: '/talk/friends/picker/', surface: 'page' },
    { prefix: '/_kapibara/sharing/', surface: 'kapi' },
  ],
};
