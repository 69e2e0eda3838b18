import type { DB } from './schema.js';

/**
 * A table as the state format and the store see it: its name, which columns hold JSON text
 * (written as JSON values), which hold bytes (written as base64 strings), and whether it is
 * an append-only log (`log`: its writes go through a `LogTable` writer and leave the change
 * stamp alone, so nothing kept in memory may be derived from it). Numeric ids of the other
 * tables come from the store's id spaces (db/ids.ts).
 */
export interface TableSpec {
  name: keyof DB & string;
  json: string[];
  binary?: string[];
  log?: boolean;
  /**
   * A PostgreSQL sequence that gives this table's `id` (SQLite: the rowid does). After an
   * import it is moved past the imported ids, so the next row cannot take one of theirs.
   */
  idSequence?: string;
  /**
   * Columns besides `id` and `user_id` holding ids of db/ids.ts's `id` space: an import moves
   * the ids issued after it past theirs too, so none is drawn again.
   */
  issuedIds?: string[];
  /**
   * The column holding when a row stops being usable (ms on the platform clock): rows past
   * it for longer than a grace period are removed by the expiry sweep and left out of
   * exports (store/expiry.ts). Indexed, so that finding them costs what they are.
   */
  expiresAt?: string;
  /**
   * Columns an imported row may leave out (a document written before they existed), worked
   * out from the rest of the row; when that gives undefined the column is required.
   */
  derived?: Record<string, (row: Record<string, unknown>) => unknown>;
}
