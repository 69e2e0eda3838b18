import type { Product } from '../../core/product.js';
import * as migration021 from './migrations.js';
import * as migration077 from './migration-tokens-listed.js';
import { pushTables } from './tables.js';
import { pushRoutes } from './routes.js';
import pushControlRoutes from './control.js';
import { PUSH_PATH, pushConsolePages } from './console.js';

/**
 * Push notifications (seed 002's Push table, products notes §3): tokens registered by the
 * service's back end; pushes land in a per-device inbox the control plane and console show.
 */
export const push: Product = {
  name: 'push',
  routes: pushRoutes,
  control: pushControlRoutes,
  migrations: { '021_push': migration021, '077_push_tokens_listed': migration077 },
  tables: pushTables,
  consolePages: { links: [{ path: PUSH_PATH, title: 'Push notifications' }], plugin: pushConsolePages },
};
