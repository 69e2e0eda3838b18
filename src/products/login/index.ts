import type { Product } from '../../core/product.js';
import { loginTables } from './tables.js';
import { loginPages, loginRoutes } from './routes.js';
import loginControlRoutes from './control.js';
import * as migration050 from './migration-code-tokens.js';

/**
 * Kakao Login (kauth, seed 002 and wire facts §2): authorize with the login, sign-up and
 * consent pages, token, AGT, OpenID Connect. Its tables were created by the core migration.
 */
export const login: Product = {
  name: 'login',
  routes: loginRoutes,
  pages: loginPages,
  control: loginControlRoutes,
  migrations: { '050_login_code_tokens': migration050 },
  tables: loginTables,
  consentItems: [{ id: 'openid', display_name: 'OpenID Connect', type: 'SERVICE' }],
  surfaces: [
    { prefix: '/oauth/', surface: 'kauth' },
    { prefix: '/api/agt', surface: 'kauth' },
    { prefix: '/.well-known/', surface: 'kauth' },
    { prefix: '/oauth/authorize', surface: 'page' },
    { prefix: '/oauth/logout', surface: 'page' },
  ],
};
