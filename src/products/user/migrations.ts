import type { Kysely } from 'kysely';

/**
 * The User API pages an app's user ids (/v1/user/ids) and reads several of them at once
 * (/v2/app/users): both look up app_users by (app_id, user_id).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('app_users_app_user_id').on('app_users').columns(['app_id', 'user_id']).execute();
}
