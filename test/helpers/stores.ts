import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store, StoreOptions } from '../../src/db/index.js';
import { openStore } from '../../src/kapibara.js';
import { startPgServer, type PgServer } from './pg-server.js';

export type StoreKind = 'sqlite' | 'postgres';

/**
 * Which stores the suite runs on. Both by default (and always in CI); a developer may set
 * KAPIBARA_TEST_STORES=sqlite for a quicker local loop, and the test names say which ran.
 */
export function storeKinds(): StoreKind[] {
  const wanted = (process.env.KAPIBARA_TEST_STORES ?? 'sqlite,postgres').split(',').map((s) => s.trim());
  if (process.env.CI && wanted.length < 2) throw new Error('CI runs every store: unset KAPIBARA_TEST_STORES');
  return wanted.filter((s): s is StoreKind => s === 'sqlite' || s === 'postgres');
}

let ownServer: Promise<PgServer> | undefined;

/** DATABASE_URL if set; the runner's shared server; or a server of this process's own. */
async function serverUrl(): Promise<string> {
  const given = process.env.DATABASE_URL ?? process.env.KAPIBARA_TEST_PG_URL;
  if (given) return given;
  if (!ownServer) {
    // A server of this file's own (`node --test` of one file, without the runner's): the
    // process exits when its tests are done, and the server goes with it.
    ownServer = startPgServer();
    (await ownServer).stopOnExit();
  }
  return (await ownServer).url;
}

/** A fresh store: SQLite in memory, or a new database on the PostgreSQL server. */
export async function freshStore(kind: StoreKind): Promise<Store> {
  if (kind === 'sqlite') return openStore({ sqlitePath: ':memory:' });
  const database = await freshPgDatabase();
  const store = await openStore({ databaseUrl: database.url });
  const close = store.close;
  return {
    ...store,
    async close() {
      await close();
      await database.drop();
    },
  };
}

/**
 * A new database on the test server; `icuLocale` makes its default collation that ICU
 * locale (as `en_US.UTF-8` databases sort: case and punctuation ignored first), where the
 * server's own default is C-like.
 */
export async function freshPgDatabase(options: { icuLocale?: string } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const base = await serverUrl();
  const name = `kapibara_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    const collation = options.icuLocale ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${options.icuLocale}' LOCALE 'C.UTF-8'` : '';
    await admin.query(`CREATE DATABASE ${name}${collation}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = new pg.Client({ connectionString: base });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/**
 * Store options that outlive one open (a SQLite file in a temporary folder, or a new
 * PostgreSQL database), for tests that close and reopen a store; removed afterwards.
 */
export async function withDurableStore(kind: StoreKind, run: (options: StoreOptions) => Promise<void>): Promise<void> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'kapibara-test-'));
    try {
      await run({ sqlitePath: join(dir, 'kapibara.db') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  const database = await freshPgDatabase();
  try {
    await run({ databaseUrl: database.url });
  } finally {
    await database.drop();
  }
}
