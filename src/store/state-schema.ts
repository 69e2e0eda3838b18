import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { TObject, TSchema } from '@sinclair/typebox';
import type { TableSpec } from '../db/tables.js';
import { AccountBody, AppBody, LinkProperties, webDomainsProblem } from '../control/bodies.js';
import { signingKeyProblem } from '../core/keys.js';
import { jsonValidator } from '../core/validation.js';
import { readableAjvErrors } from '../core/schema-errors.js';
import { tlsMaterialProblem } from '../core/tls.js';
import { StateFormatError, type StateDocument } from './state.js';

/**
 * Validation of a state document before anything is written: every table named must be one
 * of the state format's (the table list), every row an object whose fields are that table's
 * columns (as the migrations made them) with values of the column's type, and every
 * required column present. Errors name the source (a file path, when there is one), the row and the field:
 * `seed.json: apps[0].id: expected an integer, got "x"`. Failures the database finds
 * (duplicates, rows referring to missing rows) are explained the same way by
 * `explainImportError` instead of passing on the database's own text.
 */

type Kind = 'integer' | 'number' | 'text' | 'binary' | 'json';

interface Column {
  name: string;
  kind: Kind;
  nullable: boolean;
  required: boolean;
}

const INTEGER_TYPES = /^(bigint|int|int2|int4|int8|integer|smallint)$/i;
const NUMBER_TYPES = /^(real|double|double precision|float4|float8|numeric)$/i;
const BINARY_TYPES = /^(blob|bytea)$/i;

/**
 * Rows these tables may leave out columns a default fills (docs/state-format.md): apps and
 * accounts written without their keys or creation time are created as the control plane
 * creates them; a person's link gets its ids, times and empty consents.
 */
function lenientColumns(table: string, row: Record<string, unknown>): ReadonlySet<string> | 'all' {
  if (table === 'apps' && !('rest_api_key' in row && 'admin_key' in row)) return 'all';
  if (table === 'accounts' && !('created_at' in row)) return 'all';
  if (table === 'app_users') return new Set(['user_id', 'uuid', 'connected_at', 'signed_up_at', 'properties', 'scopes', 'terms']);
  return new Set();
}

async function columnsOf(db: Kysely<DB>, tables: readonly TableSpec[]): Promise<Map<string, Column[]>> {
  const wanted = new Set<string>(tables.map((t) => t.name));
  const out = new Map<string, Column[]>();
  for (const table of await db.introspection.getTables()) {
    if (!wanted.has(table.name)) continue;
    const spec = tables.find((t) => t.name === table.name)!;
    out.set(
      table.name,
      table.columns.map((c) => ({
        name: c.name,
        kind: spec.json.includes(c.name)
          ? 'json'
          : spec.binary?.includes(c.name) || BINARY_TYPES.test(c.dataType)
            ? 'binary'
            : INTEGER_TYPES.test(c.dataType)
              ? 'integer'
              : NUMBER_TYPES.test(c.dataType)
                ? 'number'
                : 'text',
        nullable: c.isNullable,
        required: !c.isNullable && !c.hasDefaultValue && !c.isAutoIncrementing,
      })),
    );
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function typeProblem(column: Column, value: unknown): string | undefined {
  if (value === null) return column.nullable || column.kind === 'json' ? undefined : 'expected a value, got null';
  switch (column.kind) {
    case 'integer':
      // Booleans are stored as 0/1.
      return (typeof value === 'number' && Number.isSafeInteger(value)) || typeof value === 'boolean' ? undefined : `expected an integer, got ${describe(value)}`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `expected a number, got ${describe(value)}`;
    case 'text':
      return typeof value === 'string' ? undefined : `expected a string, got ${describe(value)}`;
    case 'binary':
      return typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? undefined : `expected a base64 string, got ${describe(value)}`;
    default:
      // JSON columns hold structured data: an object or an array (text there would be
      // stored as it is and fail every later read of the row).
      return typeof value === 'object' ? undefined : `expected a JSON object or array, got ${describe(value)}`;
  }
}

/**
 * Rows of the tables the control plane writes field by field are held to its fields' rules
 * (control/bodies.ts: lengths, list sizes, enums, patterns, id ranges). Booleans are left
 * out (a row may write them 0/1), and so is a password (a row may carry its hash).
 */
const ROW_FIELDS: Record<string, Record<string, TSchema>> = {
  apps: fieldsOf(AppBody, ['login_enabled', 'oidc_enabled', 'manual_signup']),
  accounts: fieldsOf(AccountBody, ['password', 'is_leap_month', 'is_korean', 'email_verified', 'talk_user', 'story_user']),
  app_users: { properties: LinkProperties },
};

/** Rules beyond a field's schema, checked once the schema holds (the control plane's routes run the same). */
const ROW_RULES: Record<string, Record<string, (value: never) => string | undefined>> = {
  apps: { web_domains: (domains: string[]) => webDomainsProblem(domains) },
};

function fieldsOf(body: TObject, skip: string[]): Record<string, TSchema> {
  return Object.fromEntries(Object.entries(body.properties).filter(([k]) => !skip.includes(k)));
}

const rowFieldChecks = new Map<TSchema, ReturnType<typeof jsonValidator>>();

function fieldProblem(table: string, field: string, value: unknown): string | undefined {
  const schema = ROW_FIELDS[table]?.[field];
  if (!schema || value === undefined) return undefined;
  let check = rowFieldChecks.get(schema);
  if (!check) rowFieldChecks.set(schema, (check = jsonValidator(schema)));
  if (!check(value)) {
    const first = readableAjvErrors(check.errors ?? [])[0];
    const where = first?.instancePath ? `${first.instancePath.slice(1).replace(/\//g, '.')}: ` : '';
    // A key's own rule (JSON Schema's propertyNames): name the key.
    const key = first?.propertyName === undefined ? '' : `property name "${first.propertyName.slice(0, 40)}" `;
    return `${where}${key}${first?.message ?? 'not allowed'}`;
  }
  return ROW_RULES[table]?.[field]?.(value as never);
}

/** Throws a StateFormatError naming the first problem; `source` names the document (a file). */
export async function validateState(db: Kysely<DB>, tables: readonly TableSpec[], doc: unknown, source?: string): Promise<void> {
  const fail = (where: string, problem: string): never => {
    throw new StateFormatError(`${source ? `${source}: ` : ''}${where}${where ? ': ' : ''}${problem}`);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail('', `expected a JSON object, got ${describe(doc)}`);
  const columns = await columnsOf(db, tables);
  const document = doc as StateDocument;
  for (const [key, rows] of Object.entries(document)) {
    if (key === 'version') {
      if (rows !== 1) fail('version', `expected 1, got ${describe(rows)}`);
      continue;
    }
    const table = columns.get(key);
    if (!table) fail('', `unknown table "${key}" (the state format has: ${tables.map((t) => t.name).join(', ')})`);
    if (!Array.isArray(rows)) fail(key, `expected an array of rows, got ${describe(rows)}`);
    const byName = new Map(table!.map((c) => [c.name, c]));
    for (const [i, row] of (rows as unknown[]).entries()) {
      const at = `${key}[${i}]`;
      if (typeof row !== 'object' || row === null || Array.isArray(row)) fail(at, `expected an object, got ${describe(row)}`);
      const fields = row as Record<string, unknown>;
      const lenient = lenientColumns(key, fields);
      for (const [field, value] of Object.entries(fields)) {
        const column = byName.get(field);
        if (!column) return fail(`${at}.${field}`, `unknown field (${key} has: ${table!.map((c) => c.name).join(', ')})`);
        // A seed may list a person's agreed scopes as an array of names.
        if (key === 'app_users' && field === 'scopes' && Array.isArray(value)) {
          const bad = value.findIndex((s) => typeof s !== 'string');
          if (bad >= 0) fail(`${at}.scopes[${bad}]`, `expected a string, got ${describe(value[bad])}`);
          continue;
        }
        const problem = typeProblem(column, value) ?? fieldProblem(key, field, value);
        if (problem) fail(`${at}.${field}`, problem);
      }
      // The server's identity: a key or certificate it cannot use would break every start.
      if (key === 'settings' && typeof fields.value === 'string') {
        const identity = fields.key === 'signing_key' ? signingKeyProblem(fields.value) : fields.key === 'tls_certificate' ? tlsMaterialProblem(fields.value) : undefined;
        if (identity) fail(`${at}.value`, identity);
      }
      if (lenient === 'all') continue;
      for (const column of table!) {
        if (column.required && !lenient.has(column.name) && (fields[column.name] === undefined || fields[column.name] === null)) {
          fail(`${at}.${column.name}`, 'required');
        }
      }
      const derived = tables.find((t) => t.name === key)?.derived ?? {};
      for (const [column, derive] of Object.entries(derived)) {
        if ((fields[column] === undefined || fields[column] === null) && derive(fields) === undefined) {
          fail(`${at}.${column}`, 'required (the rest of the row does not tell it)');
        }
      }
    }
  }
}

interface DatabaseError {
  message?: string;
  code?: string;
  detail?: string;
  constraint?: string;
}

/**
 * A database refusal while importing row `index` of `table`, in the document's words:
 * duplicates name the field and value, references to missing rows say which.
 */
export function explainImportError(err: unknown, table: string, index: number, row: Record<string, unknown>, source?: string): StateFormatError {
  const e = err as DatabaseError;
  const at = `${source ? `${source}: ` : ''}${table}[${index}]`;
  const message = e?.message ?? String(err);
  // SQLite: "UNIQUE constraint failed: apps.rest_api_key[, apps.other]"; PostgreSQL 23505: "Key (a, b)=(1, 2) already exists."
  const sqliteUnique = /UNIQUE constraint failed: (.+)$/.exec(message);
  const pgUnique = e?.code === '23505' ? /Key \((.+?)\)=/.exec(e.detail ?? '') : null;
  if (sqliteUnique || pgUnique || /PRIMARY KEY/.test(message)) {
    const fields = sqliteUnique ? sqliteUnique[1].split(', ').map((f) => f.split('.').pop()!) : pgUnique ? pgUnique[1].split(', ') : [];
    const values = fields.map((f) => `${f} ${JSON.stringify(row[f])}`).join(', ');
    return new StateFormatError(`${at}: duplicate ${values || 'row'}: another ${table} row (in this document or already stored) has the same`);
  }
  if (/FOREIGN KEY constraint failed/.test(message) || e?.code === '23503') {
    const pgRef = /Key \((.+?)\)=\((.+?)\) is not present in table "(.+?)"/.exec(e?.detail ?? '');
    return new StateFormatError(
      pgRef
        ? `${at}.${pgRef[1]}: refers to ${pgRef[3]} ${pgRef[2]}, which does not exist`
        : `${at}: refers to a row that does not exist (check its ids against the parent tables, which come first)`,
    );
  }
  const notNull = /NOT NULL constraint failed: \w+\.(\w+)/.exec(message) ?? (e?.code === '23502' ? /column "(\w+)"/.exec(message) : null);
  if (notNull) return new StateFormatError(`${at}.${notNull[1]}: required`);
  return new StateFormatError(`${at}: ${message}`);
}
