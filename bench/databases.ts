import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A fresh database on the bench's PostgreSQL server. */
export async function freshDatabase(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `kapibara_bench_${randomBytes(5).toString('hex')}`;
  await query(base, `CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: async () => void (await query(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)) };
}

/** One statement on its own connection; its rows. */
export async function query<R extends Record<string, unknown>>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}
