/**
 * A Kapibara benchmark target in its own process, so the load generator does not share its
 * event loop: the real app on a fresh SQLite file, or on a PostgreSQL database (several
 * targets may share one). Reports its port over IPC. The bare baseline is bench/bare.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';

const [kind, arg] = process.argv.slice(2);
const dir = kind === 'postgres' ? undefined : mkdtempSync(join(tmpdir(), 'kapibara-bench-'));
const options = dir ? { sqlitePath: join(dir, 'kapibara.sqlite') } : { databaseUrl: arg };
const app = await buildApp({ ...options, logger: false });
await app.listen({ port: 0, host: '127.0.0.1' });
process.send!({ port: (app.server.address() as { port: number }).port });
// The data folder goes with the process (runs used to leave one behind each).
const exit = () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('disconnect', exit);
process.on('SIGTERM', exit);
