import type { Product } from '../../core/product.js';
import { loginTables } from './tables.js';
import { loginPages, loginRoutes } from './routes.js';
import { accountsPages } from './accounts.js';
import loginControlRoutes from './control.js';
import { sdkLoginRoutes } from './sdk-results.js';
import * as migration030 from './migration-auth-transactions.js';
import * as migration050 from './migration-code-tokens.js';
import * as migration058 from './migration-expiry.js';

/**
 * Kakao Login (kauth, seed 002 and wire facts §2): authorize with the login, sign-up and
 * consent pages, token, AGT, OpenID Connect. Its tables were created by the core migration.
 */
export const login: Product = {
  name: 'login',
  routes: [...loginRoutes, ...sdkLoginRoutes],
  pages: async (app) => {
    await loginPages(app);
    await accountsPages(app);
  },
  control: loginControlRoutes,
  migrations: { '030_login_auth_transactions': migration030, '050_login_code_tokens': migration050, '058_login_expiry': migration058 },
  tables: loginTables,
  consentItems: [{ id: 'openid', display_name: 'OpenID Connect', type: 'SERVICE' }],
  surfaces: [
    { prefix: '/oauth/', surface: 'kauth' },
    { prefix: '/api/agt', surface: 'kauth' },
    { prefix: '/apiweb/', surface: 'kauth' },
    { prefix: '/.well-known/', surface: 'kauth' },
    { prefix: '/oauth/authorize', surface: 'page' },
    { prefix: '/oauth/logout', surface: 'page' },
    { prefix: '/login', surface: 'page' },
  ],
};

/** What Kakao's other pages use of the login session: who is signed in, the sign-in page, AGTs. */
export { loginUrlFor, personByAgt, sessionValueOf, signedInPerson } from './accounts.js';
export type { SignedIn } from './flow.js';
export { sessionPerson, logIn } from './flow.js';
export { accountsForLoginPage } from './store.js';
