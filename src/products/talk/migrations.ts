import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Tables of Kakao Talk and Talk messaging, and the triggers that mark materialized friends
 * lists stale when their inputs change (friendships, app links and consents, nicknames and
 * pictures, multi-profiles), whoever changes them: the control plane, consent, unlink,
 * state import or plain SQL.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  // Sort keys are ASCII and must compare bytewise on both stores.
  const sortKeyType = postgres ? sql`text collate "C"` : sql`text`;

  await db.schema
    .createTable('talk_settings')
    .addColumn('account_id', 'bigint', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('messages_blocked', 'integer', (c) => c.notNull())
    .addColumn('country_iso', 'text')
    .execute();

  await db.schema
    .createTable('talk_multi_profiles')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('nickname', 'text', (c) => c.notNull())
    .addColumn('profile_image_url', 'text')
    .addColumn('thumbnail_image_url', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('talk_multi_profiles_account').on('talk_multi_profiles').column('account_id').execute();

  await db.schema
    .createTable('talk_profile_viewers')
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('viewer_account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('profile_id', 'bigint', (c) => c.notNull().references('talk_multi_profiles.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('talk_profile_viewers_pk', ['account_id', 'viewer_account_id'])
    .execute();
  await db.schema.createIndex('talk_profile_viewers_profile').on('talk_profile_viewers').column('profile_id').execute();
  await db.schema.createIndex('talk_profile_viewers_viewer').on('talk_profile_viewers').column('viewer_account_id').execute();

  await db.schema
    .createTable('talk_app_friends')
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('friend_account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('favorite', 'integer', (c) => c.notNull())
    .addColumn('sort_ko', sortKeyType, (c) => c.notNull())
    .addColumn('sort_en', sortKeyType, (c) => c.notNull())
    .addColumn('user_id', 'bigint', (c) => c.notNull())
    .addColumn('uuid', 'text', (c) => c.notNull())
    .addColumn('nickname', 'text', (c) => c.notNull())
    .addColumn('thumbnail_image_url', 'text')
    .addPrimaryKeyConstraint('talk_app_friends_pk', ['account_id', 'app_id', 'friend_account_id'])
    .execute();
  for (const key of ['sort_ko', 'sort_en']) {
    await db.schema
      .createIndex(`talk_app_friends_${key}`)
      .on('talk_app_friends')
      .columns(['account_id', 'app_id', key, 'friend_account_id'])
      .execute();
    await db.schema
      .createIndex(`talk_app_friends_fav_${key}`)
      .on('talk_app_friends')
      .columns(['account_id', 'app_id', 'favorite', key, 'friend_account_id'])
      .execute();
  }

  await db.schema
    .createTable('talk_friend_lists')
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('total_count', 'integer', (c) => c.notNull())
    .addColumn('favorite_count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('talk_friend_lists_pk', ['account_id', 'app_id'])
    .execute();

  // No foreign key: a mark may name a person whose account is being deleted.
  await db.schema
    .createTable('talk_stale_viewers')
    .addColumn('account_id', 'bigint', (c) => c.primaryKey())
    .addColumn('gen', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('talk_templates')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('object_type', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('talk_templates_app').on('talk_templates').columns(['app_id', 'id']).execute();

  await db.schema
    .createTable('talk_message_quotas')
    .addColumn('app_id', 'bigint', (c) => c.primaryKey().references('apps.id').onDelete('cascade'))
    .addColumn('sender_daily', 'integer')
    .addColumn('sender_monthly', 'integer')
    .addColumn('receiver_daily', 'integer')
    .addColumn('pair_daily', 'integer')
    .execute();

  // One row per person who sees the message: a 1:1 message is in both people's chats. One
  // index besides the key, so a send stays one cheap write; listing every chat of a person
  // (control plane only) sorts that person's rows.
  await db.schema
    .createTable('talk_messages')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('chat_type', 'text', (c) => c.notNull())
    .addColumn('peer_account_id', 'bigint', (c) => c.notNull())
    .addColumn('app_id', 'bigint', (c) => c.notNull())
    .addColumn('sender_account_id', 'bigint', (c) => c.notNull())
    .addColumn('template_type', 'text', (c) => c.notNull())
    .addColumn('template_id', 'bigint')
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('talk_messages_chat').on('talk_messages').columns(['account_id', 'peer_account_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('talk_quota_counters')
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('counter_key', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('talk_quota_counters_pk', ['app_id', 'counter_key'])
    .execute();

  for (const statement of postgres ? POSTGRES_TRIGGERS : SQLITE_TRIGGERS) await sql.raw(statement).execute(db);
}

const MARK = (who: string) =>
  `INSERT INTO talk_stale_viewers (account_id, gen) VALUES (${who}, 1)
   ON CONFLICT (account_id) DO UPDATE SET gen = talk_stale_viewers.gen + 1`;
const MARK_FRIENDS_OF = (who: string) =>
  `INSERT INTO talk_stale_viewers (account_id, gen) SELECT friend_account_id, 1 FROM friendships WHERE account_id = ${who}
   ON CONFLICT (account_id) DO UPDATE SET gen = talk_stale_viewers.gen + 1`;
const MARK_VIEWERS_OF = (profile: string) =>
  `INSERT INTO talk_stale_viewers (account_id, gen) SELECT viewer_account_id, 1 FROM talk_profile_viewers WHERE profile_id = ${profile}
   ON CONFLICT (account_id) DO UPDATE SET gen = talk_stale_viewers.gen + 1`;
const PROFILE_COLUMNS = ['nickname', 'profile_image_url', 'thumbnail_image_url', 'talk_user'];
const changed = (cols: string[], op: string) => cols.map((c) => `OLD.${c} ${op} NEW.${c}`).join(' OR ');

const SQLITE_TRIGGERS = [
  `CREATE TRIGGER talk_friendships_insert AFTER INSERT ON friendships BEGIN ${MARK('NEW.account_id')}; END`,
  `CREATE TRIGGER talk_friendships_update AFTER UPDATE ON friendships BEGIN ${MARK('NEW.account_id')}; END`,
  `CREATE TRIGGER talk_friendships_delete AFTER DELETE ON friendships BEGIN ${MARK('OLD.account_id')}; END`,
  `CREATE TRIGGER talk_app_users_insert AFTER INSERT ON app_users BEGIN ${MARK_FRIENDS_OF('NEW.account_id')}; END`,
  `CREATE TRIGGER talk_app_users_update AFTER UPDATE ON app_users WHEN OLD.scopes IS NOT NEW.scopes BEGIN ${MARK_FRIENDS_OF('NEW.account_id')}; END`,
  `CREATE TRIGGER talk_app_users_delete AFTER DELETE ON app_users BEGIN ${MARK_FRIENDS_OF('OLD.account_id')}; END`,
  `CREATE TRIGGER talk_accounts_update AFTER UPDATE ON accounts WHEN ${changed(PROFILE_COLUMNS, 'IS NOT')} BEGIN ${MARK_FRIENDS_OF('NEW.id')}; END`,
  `CREATE TRIGGER talk_multi_profiles_update AFTER UPDATE ON talk_multi_profiles BEGIN ${MARK_VIEWERS_OF('NEW.id')}; END`,
  `CREATE TRIGGER talk_profile_viewers_insert AFTER INSERT ON talk_profile_viewers BEGIN ${MARK('NEW.viewer_account_id')}; END`,
  `CREATE TRIGGER talk_profile_viewers_update AFTER UPDATE ON talk_profile_viewers BEGIN ${MARK('OLD.viewer_account_id')}; ${MARK('NEW.viewer_account_id')}; END`,
  `CREATE TRIGGER talk_profile_viewers_delete AFTER DELETE ON talk_profile_viewers BEGIN ${MARK('OLD.viewer_account_id')}; END`,
];

const plpgsql = (name: string, body: string) =>
  `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body} RETURN NULL; END $$`;

const POSTGRES_TRIGGERS = [
  plpgsql('talk_friendships_changed', `IF TG_OP = 'DELETE' THEN ${MARK('OLD.account_id')}; ELSE ${MARK('NEW.account_id')}; END IF;`),
  `CREATE TRIGGER talk_friendships_changed AFTER INSERT OR UPDATE OR DELETE ON friendships FOR EACH ROW EXECUTE FUNCTION talk_friendships_changed()`,
  plpgsql('talk_app_users_changed', `IF TG_OP = 'DELETE' THEN ${MARK_FRIENDS_OF('OLD.account_id')}; ELSE ${MARK_FRIENDS_OF('NEW.account_id')}; END IF;`),
  `CREATE TRIGGER talk_app_users_changed AFTER INSERT OR DELETE ON app_users FOR EACH ROW EXECUTE FUNCTION talk_app_users_changed()`,
  `CREATE TRIGGER talk_app_users_scopes AFTER UPDATE ON app_users FOR EACH ROW WHEN (OLD.scopes IS DISTINCT FROM NEW.scopes) EXECUTE FUNCTION talk_app_users_changed()`,
  plpgsql('talk_accounts_changed', `${MARK_FRIENDS_OF('NEW.id')};`),
  `CREATE TRIGGER talk_accounts_changed AFTER UPDATE ON accounts FOR EACH ROW WHEN (${changed(PROFILE_COLUMNS, 'IS DISTINCT FROM')}) EXECUTE FUNCTION talk_accounts_changed()`,
  plpgsql('talk_multi_profiles_changed', `${MARK_VIEWERS_OF('NEW.id')};`),
  `CREATE TRIGGER talk_multi_profiles_changed AFTER UPDATE ON talk_multi_profiles FOR EACH ROW EXECUTE FUNCTION talk_multi_profiles_changed()`,
  plpgsql(
    'talk_profile_viewers_changed',
    `IF TG_OP <> 'INSERT' THEN ${MARK('OLD.viewer_account_id')}; END IF; IF TG_OP <> 'DELETE' THEN ${MARK('NEW.viewer_account_id')}; END IF;`,
  ),
  `CREATE TRIGGER talk_profile_viewers_changed AFTER INSERT OR UPDATE OR DELETE ON talk_profile_viewers FOR EACH ROW EXECUTE FUNCTION talk_profile_viewers_changed()`,
];
