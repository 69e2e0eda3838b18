import type { Product } from '../../core/product.js';
import { systemRoutes } from './routes.js';

/** System (products notes §7): Kakao's IP list as Kapibara's own addresses, and the API status page as Kapibara's own health. */
export const system: Product = {
  name: 'system',
  routes: systemRoutes,
};
