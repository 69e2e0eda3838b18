/**
 * A benchmark target in its own process, so the load generator does not share its event
 * loop: `kapibara` (the real app on a SQLite file or a PostgreSQL database) or `bare` (a
 * plain node:http server answering every request with fixed bytes). Reports its port over IPC.
 */
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';

const [kind, arg] = process.argv.slice(2);

if (kind === 'bare') {
  const { status, headers, body } = JSON.parse(arg) as { status: number; headers: Record<string, string>; body: string };
  const bytes = Buffer.from(body, 'base64');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { ...headers, 'content-length': bytes.length });
      res.end(bytes);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
} else {
  const options =
    kind === 'postgres' ? { databaseUrl: arg } : { sqlitePath: join(mkdtempSync(join(tmpdir(), 'kapibara-bench-')), 'kapibara.sqlite') };
  const app = await buildApp({ ...options, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.send!({ port: (app.server.address() as { port: number }).port });
}
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
