import type { Product } from '../../core/product.js';
import * as migration004 from './migrations.js';
import { userTables } from './tables.js';
import { userRoutes } from './routes.js';
import userControlRoutes from './control.js';
import { shippingSection } from './console.js';

/**
 * The User API (seed 002): the person's profile and account fields, links, consents and
 * service terms, shipping addresses. Its consent items are the personal-information ones.
 */
export const user: Product = {
  name: 'user',
  routes: userRoutes,
  control: userControlRoutes,
  console: shippingSection,
  migrations: { '004_user': migration004 },
  tables: userTables,
  consentItems: [
    { id: 'profile', display_name: 'Profile Info(nickname/profile image)', type: 'PRIVACY' },
    { id: 'profile_nickname', display_name: 'Nickname', type: 'PRIVACY' },
    { id: 'profile_image', display_name: 'Profile image', type: 'PRIVACY' },
    { id: 'account_email', display_name: 'Email', type: 'PRIVACY' },
    { id: 'name', display_name: 'Name', type: 'PRIVACY' },
    { id: 'gender', display_name: 'Gender', type: 'PRIVACY' },
    { id: 'age_range', display_name: 'Age range', type: 'PRIVACY' },
    { id: 'birthday', display_name: 'Birthday', type: 'PRIVACY' },
    { id: 'birthyear', display_name: 'Birthyear', type: 'PRIVACY' },
    { id: 'phone_number', display_name: 'Phone number', type: 'PRIVACY' },
    { id: 'is_korean', display_name: 'Nationality', type: 'PRIVACY' },
    { id: 'shipping_address', display_name: 'Shipping address', type: 'PRIVACY' },
  ],
};
