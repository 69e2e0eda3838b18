import type { Kysely } from 'kysely';
import { isPasswordHash, passwordForStorage } from '../../core/passwords.js';

/**
 * Passwords were stored in plain text: hash every one that is not a hash yet (the stored
 * value of `accounts.password` is a scrypt hash from now on, core/passwords.ts). People
 * with the default password share one hash, so a store of demo-like people upgrades in
 * moments; others take tens of milliseconds each, once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const rows: { id: number; password: string }[] = await db.selectFrom('accounts').select(['id', 'password']).execute();
  for (const row of rows) {
    if (isPasswordHash(row.password)) continue;
    await db.updateTable('accounts').set({ password: await passwordForStorage(row.password) }).where('id', '=', row.id).execute();
  }
}
