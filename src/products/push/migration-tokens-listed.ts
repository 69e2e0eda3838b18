import type { Kysely } from 'kysely';

/**
 * The control plane lists an app's tokens by uuid, then registration, then device id, a page
 * at a time (`GET /apps/{app_id}/push/tokens?after_uuid=&after_device_id=&limit=`): an index
 * in that order serves a page from where it starts, instead of a sort of the app's tokens.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('push_tokens_listed').on('push_tokens').columns(['app_id', 'uuid', 'created_at', 'device_id']).execute();
}
