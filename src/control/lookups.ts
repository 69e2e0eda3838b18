import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { ControlError } from '../core/errors.js';
import type { Account, App } from '../core/model.js';
import { AppKeyTaken, findAppById } from '../store/apps.js';
import { findAccountById } from '../store/accounts.js';

/** The app a control-plane path names, or 404 `{error}`. Shared by every product's control routes. */
export async function mustApp(db: Kysely<DB>, id: number): Promise<App> {
  const found = await findAppById(db, id);
  if (!found) throw new ControlError(404, `app ${id} not found`);
  return found;
}

/** The person a control-plane path or body names, or 404 `{error}`. */
export async function mustAccount(db: Kysely<DB>, id: number): Promise<Account> {
  const found = await findAccountById(db, id);
  if (!found) throw new ControlError(404, `account ${id} not found`);
  return found;
}

/** Unique-constraint violations are the caller's mistake, never a 500. */
export async function uniquely<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const msg = String((err as Error).message ?? err);
    if (err instanceof AppKeyTaken) throw new ControlError(409, `${what}: ${msg}`);
    if (/unique|duplicate/i.test(msg)) throw new ControlError(409, `${what} already exists (a key, id or email is taken)`);
    throw err;
  }
}
