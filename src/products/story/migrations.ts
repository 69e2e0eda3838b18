import type { Kysely } from 'kysely';

/** Tables of the Story product. */
export async function up(_db: Kysely<any>): Promise<void> {}
