import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * 062: an app's deletion takes the images uploaded through it that no story shows. Only that
 * app could post them (a photo story names uploads of its own app and person), and Kakao
 * documents no expiry for Story uploads, so nothing else would ever remove them: before, they
 * stayed, their app_id set to null, until their person was deleted — with shared demo people,
 * never. Photos of posted stories stay, as before (their app_id set to null). Whoever deletes
 * the app (the control plane, plain SQL) takes them; the index finds them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('story_images_app').on('story_images').column('app_id').execute();
  const unposted = `DELETE FROM story_images WHERE app_id = OLD.id
    AND NOT EXISTS (SELECT 1 FROM story_media WHERE story_media.image_key = story_images.key)`;
  // Before the row goes: the foreign key's ON DELETE SET NULL would leave no app_id to find them by.
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql.raw(`CREATE FUNCTION story_app_deleted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${unposted}; RETURN OLD; END $$`).execute(db);
    await sql.raw('CREATE TRIGGER story_app_deleted BEFORE DELETE ON apps FOR EACH ROW EXECUTE FUNCTION story_app_deleted()').execute(db);
  } else {
    await sql.raw(`CREATE TRIGGER story_app_deleted BEFORE DELETE ON apps BEGIN ${unposted}; END`).execute(db);
  }
}
