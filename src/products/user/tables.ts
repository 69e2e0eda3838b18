/**
 * The User API's own table: shipping addresses (created by the core migration 001_core,
 * before the User API had a module of its own). See src/db/schema.ts for the conventions.
 */
import type { Bool } from '../../db/schema.js';
import type { TableSpec } from '../../db/tables.js';

export interface ShippingAddressesTable {
  id: number;
  account_id: number;
  name: string;
  is_default: Bool;
  updated_at: number;
  type: string;
  base_address: string;
  detail_address: string | null;
  receiver_name: string | null;
  receiver_phone_number1: string | null;
  receiver_phone_number2: string | null;
  zone_number: string | null;
  zip_code: string | null;
}

export interface UserTables {
  shipping_addresses: ShippingAddressesTable;
}

declare module '../../db/schema.js' {
  interface DB extends UserTables {}
}

export const userTables: TableSpec[] = [{ name: 'shipping_addresses', json: [] }];
