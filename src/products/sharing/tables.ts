/**
 * Tables of Kakao Talk sharing (seed 004): the templates validation issues for default and
 * scrap messages, uploaded images, shares waiting in the sharer, the success webhook of each
 * app and every webhook attempt. See src/db/schema.ts for the shared conventions.
 */
import type { TableSpec } from '../../db/tables.js';

/**
 * A message validation built from a default template or a scrap: its id is the
 * `template_id` the answer carries, which the sharer later accepts as a custom template.
 * The same final template in the same app is one row (`digest`).
 */
export interface SharingTemplatesTable {
  id: number;
  app_id: number;
  /** default or scrap. */
  kind: string;
  /** SHA-256 of the template JSON: one row per distinct message per app. */
  digest: string;
  /** JSON: the final template (defaults applied, foreign links dropped). */
  template: string;
  created_at: number;
}

/** An image uploaded or scrapped for sharing, served at `/_kapibara/sharing/dn/<key>/kakaolink40_original.<ext>`. */
export interface SharingImagesTable {
  key: string;
  app_id: number;
  content_type: string;
  ext: string;
  length: number;
  width: number;
  height: number;
  bytes: Buffer;
  created_at: number;
  /** 20 days after the upload, on the platform clock. */
  expires_at: number;
}

/** A share opened in the sharer, waiting for the person to pick chats (and then sent). */
export interface SharingRequestsTable {
  /** SHA-256 of the short key the sharer's page carries. */
  key_hash: string;
  app_id: number;
  /** default, custom or scrap, as the SDK asked. */
  action: string;
  template_id: number;
  template_type: string;
  /** JSON: the final template the chats will show. */
  template: string;
  /** JSON of serverCallbackArgs (lcba), if given. */
  callback_args: string | null;
  /** The app page's origin the sharer tells when the message is sent. */
  opener_origin: string | null;
  /** SHA-256 of the login session the picker was shown to, and of the form token it carries. */
  session_hash: string | null;
  form_token_hash: string | null;
  created_at: number;
  expires_at: number;
  sent_at: number | null;
}

/** The app's sharing success webhook ("카카오톡 공유 웹훅"). */
export interface SharingWebhooksTable {
  app_id: number;
  url: string;
  /** GET or POST. */
  method: string;
  updated_at: number;
}

/** One call of a sharing success webhook, as it went. */
export interface SharingWebhookCallsTable {
  id: number;
  app_id: number;
  account_id: number;
  url: string;
  method: string;
  resource_id: string;
  /** JSON: the parameters sent. */
  params: string;
  /** The HTTP status answered, or null when the call failed (see error). */
  status: number | null;
  error: string | null;
  duration_ms: number;
  called_at: number;
}

export interface SharingTables {
  sharing_templates: SharingTemplatesTable;
  sharing_images: SharingImagesTable;
  sharing_requests: SharingRequestsTable;
  sharing_webhooks: SharingWebhooksTable;
  sharing_webhook_calls: SharingWebhookCallsTable;
}

declare module '../../db/schema.js' {
  interface DB extends SharingTables {}
}

/** Export/import/reset order (parents first). */
export const sharingTables: TableSpec[] = [
  { name: 'sharing_templates', json: ['template'] },
  // Expired uploads and shares go with the expiry sweep (store/expiry.ts), a day after.
  { name: 'sharing_images', json: [], binary: ['bytes'], expiresAt: 'expires_at' },
  { name: 'sharing_requests', json: ['template', 'callback_args'], expiresAt: 'expires_at' },
  { name: 'sharing_webhooks', json: [] },
  { name: 'sharing_webhook_calls', json: ['params'] },
];
