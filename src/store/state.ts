import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { type AppJson, AppKeyTaken, appInputFromJson, createApp, firstSharedKey } from './apps.js';
import { type AccountJson, accountInputFromJson, createAccount } from './accounts.js';
import { randomToken } from '../core/ids.js';
import { issueIdsAbove, movesIssuedIds, newId, sequenceAbove } from '../db/ids.js';
import { concurrencyFailure, isPostgres, primaryKeyOrder } from '../db/dialect.js';
import { CLOCK_MAX_MS, CLOCK_OFFSET_SETTING, storedClockOffset } from '../core/clock.js';
import { passwordForStorage } from '../core/passwords.js';
import { columnTooLong } from '../control/limits.js';
import type { TableSpec } from '../db/tables.js';
import { explainImportError, validateState } from './state-schema.js';
import { expiredBefore } from './expiry.js';

/**
 * Export, import and reset of all state, in one JSON format (docs/state-format.md):
 * `{ "version": 1, "<table>": [rows…] }`, parents before children. Columns holding JSON
 * text are written as JSON values; `apps`, `accounts` and `app_users` rows may leave out
 * any column that has a default, so a hand-written seed file stays short.
 */

/**
 * The core tables, parents first. Every function here takes the whole list: these, then
 * each product's `tables` (children of the core ones) in product order.
 */
export const CORE_TABLES: readonly TableSpec[] = [
  { name: 'settings', json: [] },
  {
    name: 'apps',
    json: ['redirect_uris', 'logout_redirect_uris', 'web_domains', 'consent_items', 'service_terms', 'user_property_keys'],
  },
  { name: 'accounts', json: [] },
  { name: 'app_users', json: ['properties', 'scopes', 'terms'] },
  { name: 'friendships', json: [] },
  { name: 'access_tokens', json: [], expiresAt: 'expires_at' },
  { name: 'refresh_tokens', json: [], expiresAt: 'expires_at' },
];

/** Settings that are the server's identity rather than state: kept by a reset. */
const IDENTITY_SETTINGS = ['signing_key', 'tls_certificate'];

export type StateDocument = { version?: number } & Record<string, unknown>;

/**
 * One table's rows as an export writes them: JSON columns parsed, bytes in base64, by
 * primary key; rows the expiry sweep removes at `now` left out (store/expiry.ts).
 */
async function exportRows(db: Kysely<DB>, spec: TableSpec, now: number): Promise<Record<string, unknown>[]> {
  // By primary key: the same order on both stores, however rows were updated.
  const order = await primaryKeyOrder(db, spec.name);
  const rows = await db
    .selectFrom(spec.name as any)
    .selectAll()
    .$if(spec.expiresAt !== undefined, (q) => q.where(spec.expiresAt as any, '>=', expiredBefore(now)))
    .$call((q) => order.reduce((ordered, column) => ordered.orderBy(column), q))
    .execute();
  return rows.map((row: Record<string, unknown>) => {
    const out: Record<string, unknown> = { ...row };
    for (const col of spec.json) if (typeof out[col] === 'string') out[col] = JSON.parse(out[col] as string);
    for (const col of spec.binary ?? []) if (out[col] instanceof Uint8Array) out[col] = Buffer.from(out[col] as Uint8Array).toString('base64');
    return out;
  });
}

/**
 * The export as JSON text, in pieces of at most one row: a store holding a few hundred MB
 * of uploads exports more text than one string can hold (V8's limit is about 512 MB), which
 * made `GET /state` a 500 and `kapibara export` fail. The text is what `JSON.stringify` of
 * the whole document would give, indented by two spaces when `pretty`. `now` is the platform
 * time: what has been expired too long to be kept is not written.
 */
export async function* exportStateText(db: Kysely<DB>, tables: readonly TableSpec[], now: number, pretty = false): AsyncGenerator<string> {
  const [nl, pad, rowPad, colon] = pretty ? ['\n', '  ', '    ', ': '] : ['', '', '', ':'];
  yield `{${nl}${pad}"version"${colon}1`;
  for (const spec of tables) {
    const rows = await exportRows(db, spec, now);
    yield `,${nl}${pad}${JSON.stringify(spec.name)}${colon}[`;
    for (let i = 0; i < rows.length; i++) {
      const text = pretty ? JSON.stringify(rows[i], null, 2).replaceAll('\n', `\n${rowPad}`) : JSON.stringify(rows[i]);
      rows[i] = undefined as never; // what was written need not be held
      yield `${i ? ',' : ''}${nl}${rowPad}${text}`;
    }
    yield rows.length ? `${nl}${pad}]` : ']';
  }
  yield `${nl}}`;
}

/** Writes the export (pretty, with a final newline) to `file`, or to standard output. */
export async function writeStateFile(db: Kysely<DB>, tables: readonly TableSpec[], now: number, file?: string): Promise<void> {
  async function* text() {
    yield* exportStateText(db, tables, now, true);
    yield '\n';
  }
  if (file) return pipeline(Readable.from(text()), createWriteStream(file));
  for await (const chunk of text()) if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
}

/** The clock offset a store holds (its setting's text), if it holds one. */
export async function storedOffsetText(db: Kysely<DB>): Promise<string | undefined> {
  return (await db.selectFrom('settings').select('value').where('key', '=', CLOCK_OFFSET_SETTING).executeTakeFirst())?.value;
}

/** The platform time of a store no server holds (`kapibara export`): real time moved by its stored clock offset. */
export async function storedPlatformTime(db: Kysely<DB>, real = Date.now()): Promise<number> {
  return platformTime(real, await storedOffsetText(db));
}

/** Real time moved by a stored offset (a setting's text), held within what the clock can show. */
function platformTime(real: number, offsetText: string | undefined): number {
  return Math.min(real + (storedClockOffset(offsetText, real) ?? 0), CLOCK_MAX_MS);
}

export async function resetState(db: Kysely<DB>, tables: readonly TableSpec[]): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await oneStateChangeAtATime(tx);
    await deleteAll(tx, tables);
  });
}

/**
 * Imports and resets of one PostgreSQL database run one at a time (a transaction-scoped
 * advisory lock; SQLite's one writer takes them in turn anyway): made side by side, from
 * parallel test workers or several instances, they deadlocked on each other's deletes and
 * table locks (500s, and 400s blaming the document), or found each other's rows "already
 * stored".
 */
async function oneStateChangeAtATime(tx: Kysely<DB>): Promise<void> {
  if (!isPostgres(tx)) return;
  // One waits for the one before it, and for the writes under way, as long as they take
  // (calls give up a lock after db/index.ts LOCK_WAIT_MS).
  await sql`SET LOCAL lock_timeout = 0`.execute(tx);
  await sql`SELECT pg_advisory_xact_lock(${STATE_LOCK})`.execute(tx);
}

/** The advisory lock of imports and resets (an arbitrary constant, distinct from the startup and sweep locks). */
const STATE_LOCK = 0x6b6170_737461; // "kap" "sta" in ASCII

async function deleteAll(tx: Kysely<DB>, tables: readonly TableSpec[]): Promise<void> {
  // People and apps first, as a delete of one takes them (then their rows, by cascade) and as
  // token writes take them (then the link, store/links.ts): the deletes below go children
  // first, and a write that held a person and waited for their link, which this had deleted,
  // deadlocked with it (the reset answered 409, or the call 500). Writes under way finish
  // first; later ones wait for the reset, then meet what it left (none of the people: -401).
  if (isPostgres(tx)) await sql`LOCK TABLE accounts, apps IN EXCLUSIVE MODE`.execute(tx);
  for (const spec of [...tables].reverse()) {
    // The server's identity survives a reset: clients keep a stable JWKS and a trusted TLS certificate.
    if (spec.name === 'settings') await tx.deleteFrom('settings').where('key', 'not in', IDENTITY_SETTINGS).execute();
    else await tx.deleteFrom(spec.name as any).execute();
  }
}

export class StateFormatError extends Error {}

/**
 * The platform time once `doc` is imported: real time moved by the clock offset the store
 * will hold: the document's own `clock_offset_ms` setting; else none after a replace (the
 * settings go with the rest); else the offset the store holds now.
 */
async function platformTimeAfter(db: Kysely<DB>, doc: StateDocument, real: number, replace: boolean): Promise<number> {
  const settings = Array.isArray(doc.settings) ? (doc.settings as { key?: unknown; value?: unknown }[]) : [];
  const own = [...settings].reverse().find((row) => row?.key === CLOCK_OFFSET_SETTING)?.value as string | undefined;
  if (own !== undefined || replace) return platformTime(real, own);
  return storedPlatformTime(db, real);
}

/**
 * Adds the document's rows to the current state, or with `replace` replaces all state with
 * them. Either way it is one transaction: a document that fails leaves the state as it was.
 * `real` is real time: what the document leaves out (`connected_at`, agreement times) is
 * stamped on the platform clock as it stands after the import (platformTimeAfter), the
 * clock the store's answers are read with from then on.
 */
export async function importState(
  db: Kysely<DB>,
  tables: readonly TableSpec[],
  doc: StateDocument,
  real: number,
  options: { replace?: boolean; source?: string; progress?: (done: number, total: number) => void } = {},
): Promise<Record<string, number>> {
  // Checked whole before anything is written (store/state-schema.ts).
  await validateState(db, tables, doc, options.source);
  const now = await platformTimeAfter(db, doc, real, options.replace === true);
  // Refusals name the document (a file) as validateState's do.
  const refusal = (what: string) => new StateFormatError(`${options.source ? `${options.source}: ` : ''}${what}`);
  const counts: Record<string, number> = {};
  const total = tables.reduce((n, spec) => n + ((doc[spec.name] as unknown[] | undefined)?.length ?? 0), 0);
  let done = 0;
  await db.transaction().execute(async (tx) => {
    await oneStateChangeAtATime(tx);
    if (options.replace) await deleteAll(tx, tables);
    for (const spec of tables) {
      const rows = (doc[spec.name] as Record<string, unknown>[] | undefined) ?? [];
      for (const [i, input] of rows.entries()) {
        try {
          await importRow(tx, spec, input, now);
        } catch (err) {
          if (err instanceof StateFormatError || concurrencyFailure(err)) throw err;
          if (err instanceof AppKeyTaken) throw refusal(`${spec.name}[${i}]: ${err.message}`);
          // SQLite does not say which reference failed (PostgreSQL does): find it.
          const missing = /FOREIGN KEY constraint failed/.test(String((err as Error)?.message)) ? await missingReference(tx, spec.name, input) : undefined;
          if (missing) throw refusal(`${spec.name}[${i}].${missing}`);
          throw explainImportError(err, spec.name, i, input, options.source);
        }
        options.progress?.(++done, total);
      }
      counts[spec.name] = rows.length;
    }
    await issueIdsAboveImported(tx, tables, doc);
    // A key is found by its value alone: imported apps may not share one with any app.
    const shared = await firstSharedKey(tx);
    if (shared !== undefined) throw refusal(`apps: the key ${shared} is used twice (each app key, of any kind, must be unique)`);
  });
  return counts;
}

/**
 * Imported rows keep their ids: the ids the store issues from now on (db/ids.ts, and each
 * table's own sequence) start above them.
 */
async function issueIdsAboveImported(tx: Kysely<DB>, tables: readonly TableSpec[], doc: StateDocument): Promise<void> {
  let maxApp = 0;
  let maxId = 0;
  for (const spec of tables) {
    let maxOwn = 0;
    for (const row of (doc[spec.name] as Record<string, unknown>[] | undefined) ?? []) {
      for (const [column, value] of Object.entries(row)) {
        // Ids in the upper half of the exact range leave the issued ones alone (db/ids.ts).
        if (typeof value !== 'number' || !movesIssuedIds(value)) continue;
        if (spec.name === 'apps' && column === 'id') maxApp = Math.max(maxApp, value);
        else if (column === 'id' || column === 'user_id' || spec.issuedIds?.includes(column)) maxId = Math.max(maxId, value);
        if (column === 'id') maxOwn = Math.max(maxOwn, value);
      }
    }
    if (spec.idSequence && maxOwn > 0) await sequenceAbove(tx, spec.idSequence, maxOwn);
  }
  await issueIdsAbove(tx, 'app', maxApp);
  await issueIdsAbove(tx, 'id', maxId);
}

async function importRow(db: Kysely<DB>, spec: TableSpec, input: Record<string, unknown>, now: number): Promise<void> {
  const tooLong = columnTooLong(spec.name, input);
  if (tooLong) throw new StateFormatError(tooLong);
  if (spec.name === 'apps' && !('rest_api_key' in input && 'admin_key' in input)) {
    await createApp(db, appInputFromJson(input as AppJson), now);
    return;
  }
  if (spec.name === 'accounts' && !('created_at' in input)) {
    await createAccount(db, accountInputFromJson(input as AccountJson), now);
    return;
  }
  if (spec.name === 'settings') {
    const { key, value } = input as { key: unknown; value: unknown };
    if (typeof key !== 'string' || typeof value !== 'string') throw new StateFormatError('settings rows are { "key": string, "value": string }');
    if (key === CLOCK_OFFSET_SETTING && !/^-?\d+$/.test(value.trim())) {
      throw new StateFormatError(`settings.clock_offset_ms: ${JSON.stringify(value)} is not a whole number of milliseconds`);
    }
    if (key === CLOCK_OFFSET_SETTING && storedClockOffset(value) === undefined) {
      throw new StateFormatError(`settings.clock_offset_ms: ${value} ms would move the clock past what a date can hold`);
    }
    await db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
    return;
  }
  const row: Record<string, unknown> = { ...input };
  for (const [column, derive] of Object.entries(spec.derived ?? {})) row[column] ??= derive(row);
  if (spec.name === 'accounts') {
    // An export carries the hash; a hand-written row may carry the plaintext: stored hashed.
    if (row.password !== undefined && typeof row.password !== 'string') throw new StateFormatError('accounts.password must be a string');
    row.password = await passwordForStorage(row.password as string | undefined);
  }
  if (spec.name === 'app_users') {
    row.user_id ??= await newId(db);
    row.uuid ??= randomToken(12);
    row.connected_at ??= now;
    if (!('signed_up_at' in row)) row.signed_up_at = now;
    row.properties ??= {};
    row.terms ??= {};
    // A seed file may list agreed scopes as an array; stored as scope → agreed_at.
    if (Array.isArray(row.scopes)) row.scopes = Object.fromEntries((row.scopes as string[]).map((s) => [s, now]));
    row.scopes ??= {};
  }
  // A null JSON column is SQL NULL (an absent value), never the JSON text `null`.
  for (const col of spec.json) if (row[col] !== undefined && row[col] !== null) row[col] = JSON.stringify(row[col]);
  for (const col of spec.binary ?? []) {
    if (typeof row[col] !== 'string') throw new StateFormatError(`${spec.name}.${col} must be a base64 string`);
    row[col] = Buffer.from(row[col] as string, 'base64');
  }
  for (const [k, v] of Object.entries(row)) if (typeof v === 'boolean') row[k] = v ? 1 : 0;
  await db.insertInto(spec.name as any).values(row).execute();
}

/** SQLite: the first reference of `row` to a row that does not exist, as `column: refers to …`. */
async function missingReference(db: Kysely<DB>, table: string, row: Record<string, unknown>): Promise<string | undefined> {
  const { rows } = await sql<{ table: string; from: string; to: string }>`SELECT "table", "from", "to" FROM pragma_foreign_key_list(${table})`.execute(db);
  for (const fk of rows) {
    const value = row[fk.from];
    if (value === undefined || value === null) continue;
    const found = await db
      .selectFrom(fk.table as any)
      .select(sql`1`.as('one'))
      .where(sql.ref(fk.to), '=', value)
      .executeTakeFirst();
    if (!found) return `${fk.from}: refers to ${fk.table} ${String(value)}, which does not exist`;
  }
  return undefined;
}
