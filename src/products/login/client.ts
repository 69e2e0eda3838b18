import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { App, KeyType } from '../../core/model.js';
import { findAppByKey } from '../../store/apps.js';

export interface Client {
  app: App;
  keyType: KeyType;
  clientId: string;
}

/**
 * The app behind a `client_id`: any of its keys but the admin key. The pages and the token
 * endpoint each answer a missing or unknown one in their own surface's shape.
 */
export async function findClient(db: Kysely<DB>, clientId: string): Promise<Client | undefined> {
  const found = await findAppByKey(db, clientId);
  if (!found || found.keyType === 'admin') return undefined;
  return { app: found.app, keyType: found.keyType, clientId };
}
