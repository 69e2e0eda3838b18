import type { Product } from '../../core/product.js';
import * as migration003 from './migrations.js';
import * as migration062 from './migration-app-uploads.js';
import * as migration075 from './migration-stories-by-seq-id.js';
import { storyTables } from './tables.js';
import { storyPages, storyRoutes } from './routes.js';
import storyControlRoutes from './control.js';
import { storySection } from './console.js';
import { storySharePages } from './share.js';

/** Kakao Story (seed 000): profile, posting, my stories, uploads, link info; story pages and images. */
export const story: Product = {
  name: 'story',
  routes: storyRoutes,
  pages: async (app) => {
    await storyPages(app);
    await storySharePages(app);
  },
  surfaces: [{ prefix: '/s/', surface: 'page' }],
  control: storyControlRoutes,
  migrations: { '003_story': migration003, '062_story_app_uploads': migration062, '075_stories_by_seq_and_id': migration075 },
  tables: storyTables,
  console: storySection,
  consentItems: [
    { id: 'story_read', display_name: 'Reading Kakao Story', type: 'SERVICE' },
    { id: 'story_publish', display_name: 'Posting to Kakao Story', type: 'SERVICE' },
    { id: 'story_permalink', display_name: 'Kakao Story permalink', type: 'SERVICE' },
  ],
};
