/** Tables of the Push product (see src/db/schema.ts for the shared conventions). */
import type { TableSpec } from '../../db/tables.js';
import type { Bool } from '../../db/schema.js';

/** An app's push settings: how many days a registered token lives (-1: no limit). */
export interface PushSettingsTable {
  app_id: number;
  token_ttl_days: number;
}

/** A registered device: one token per (app, uuid, device_id). */
export interface PushTokensTable {
  app_id: number;
  /** The service's own user id (1 … 2^63−1, as text). */
  uuid: string;
  device_id: string;
  push_type: 'apns' | 'fcm';
  push_token: string;
  created_at: number;
  updated_at: number;
  /** null: never expires. */
  expires_at: number | null;
}

/** A push as the device received it: Kapibara's stand-in for APNs and FCM. */
export interface PushDeliveriesTable {
  id: number;
  app_id: number;
  uuid: string;
  device_id: string;
  push_type: 'apns' | 'fcm';
  push_token: string;
  /** JSON: the for_apns / for_fcm object delivered (after the APNs size rule). */
  message: string;
  /** 1: the APNs message was cut to fit 4 KB. */
  truncated: Bool;
  sent_at: number;
}

export interface PushTables {
  push_settings: PushSettingsTable;
  push_tokens: PushTokensTable;
  push_deliveries: PushDeliveriesTable;
}

declare module '../../db/schema.js' {
  interface DB extends PushTables {}
}

export const pushTables: TableSpec[] = [
  { name: 'push_settings', json: [] },
  { name: 'push_tokens', json: [] },
  { name: 'push_deliveries', json: ['message'] },
];
