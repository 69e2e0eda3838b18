import type { Product } from '../../core/product.js';
import { sdkPages } from './pages.js';
import * as migration066 from './migration-web-domain-changes.js';

/**
 * The browser SDKs: Kapibara's own `window.Kakao` at /sdk/js/kakao.js (and kakao.min.js),
 * the pages Kakao's official SDK v1 frames (kapi /cors/, kauth's login widget) and the pictures
 * of its login button.
 */
export const sdk: Product = {
  name: 'sdk',
  pages: sdkPages,
  migrations: { '066_sdk_web_domain_changes': migration066 },
  surfaces: [
    { prefix: '/sdk/js/', surface: 'page' },
    { prefix: '/cors', surface: 'page' },
    { prefix: '/public/widget/', surface: 'page' },
  ],
};
