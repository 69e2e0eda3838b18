import type { Product } from '../core/product.js';
import { user } from './user/index.js';
import { login } from './login/index.js';
import { talk } from './talk/index.js';
import { message } from './message/index.js';
import { story } from './story/index.js';
import { channel } from './channel/index.js';
import { push } from './push/index.js';
import { system } from './system/index.js';
import { sharing } from './sharing/index.js';
import { sdk } from './sdk/index.js';

/**
 * The products Kapibara emulates, each one module (src/products/<p>/index.ts). Everything
 * central (routes, migrations, state export/import/reset, control plane, console, consent
 * items) loops over this list. The order is that of `/v2/user/scopes` and of the state
 * format's tables.
 */
export const products: readonly Product[] = [user, login, talk, message, story, channel, push, system, sharing, sdk];
