import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('apps')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('rest_api_key', 'text', (c) => c.notNull().unique())
    .addColumn('native_key', 'text', (c) => c.notNull().unique())
    .addColumn('javascript_key', 'text', (c) => c.notNull().unique())
    .addColumn('admin_key', 'text', (c) => c.notNull().unique())
    .addColumn('client_secret', 'text')
    .addColumn('redirect_uris', 'text', (c) => c.notNull())
    .addColumn('logout_redirect_uris', 'text', (c) => c.notNull())
    .addColumn('web_domains', 'text', (c) => c.notNull())
    .addColumn('consent_items', 'text', (c) => c.notNull())
    .addColumn('service_terms', 'text', (c) => c.notNull())
    .addColumn('user_property_keys', 'text', (c) => c.notNull())
    .addColumn('login_enabled', 'integer', (c) => c.notNull())
    .addColumn('oidc_enabled', 'integer', (c) => c.notNull())
    .addColumn('manual_signup', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('password', 'text', (c) => c.notNull())
    .addColumn('nickname', 'text', (c) => c.notNull())
    .addColumn('profile_image_url', 'text')
    .addColumn('thumbnail_image_url', 'text')
    .addColumn('name', 'text')
    .addColumn('gender', 'text')
    .addColumn('birthyear', 'text')
    .addColumn('birthday', 'text')
    .addColumn('birthday_type', 'text')
    .addColumn('is_leap_month', 'integer', (c) => c.notNull())
    .addColumn('phone_number', 'text')
    .addColumn('is_korean', 'integer')
    .addColumn('email_verified', 'integer', (c) => c.notNull())
    .addColumn('talk_user', 'integer', (c) => c.notNull())
    .addColumn('story_user', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('app_users')
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('user_id', 'bigint', (c) => c.notNull().unique())
    .addColumn('uuid', 'text', (c) => c.notNull().unique())
    .addColumn('connected_at', 'bigint', (c) => c.notNull())
    .addColumn('signed_up_at', 'bigint')
    .addColumn('properties', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('terms', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('app_users_pk', ['app_id', 'account_id'])
    .execute();

  await db.schema
    .createTable('access_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('refresh_hash', 'text')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('access_tokens_app_account').on('access_tokens').columns(['app_id', 'account_id']).execute();

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('refresh_tokens_app_account').on('refresh_tokens').columns(['app_id', 'account_id']).execute();

  await db.schema
    .createTable('auth_codes')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('code_challenge', 'text')
    .addColumn('code_challenge_method', 'text')
    .addColumn('nonce', 'text')
    .addColumn('auth_time', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('login_sessions')
    .addColumn('session_hash', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('agts')
    .addColumn('agt_hash', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('friendships')
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('friend_account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('favorite', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('friendships_pk', ['account_id', 'friend_account_id'])
    .execute();

  await db.schema
    .createTable('shipping_addresses')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('is_default', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('base_address', 'text', (c) => c.notNull())
    .addColumn('detail_address', 'text')
    .addColumn('receiver_name', 'text')
    .addColumn('receiver_phone_number1', 'text')
    .addColumn('receiver_phone_number2', 'text')
    .addColumn('zone_number', 'text')
    .addColumn('zip_code', 'text')
    .execute();
  await db.schema.createIndex('shipping_addresses_account').on('shipping_addresses').columns(['account_id', 'updated_at']).execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}
