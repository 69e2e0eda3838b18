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
  // Answers keyed by `authorization + path` (the first is the default): the same bytes
  // Kapibara gave for each request measured.
  type Sample = { key: string; status: number; headers: Record<string, string>; body: string };
  const samples = (JSON.parse(arg) as Sample[]).map((s) => ({ ...s, bytes: Buffer.from(s.body, 'base64') }));
  const byKey = new Map(samples.map((s) => [s.key, s]));
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const s = byKey.get(`${req.headers.authorization ?? ''} ${req.url}`) ?? samples[0];
      res.writeHead(s.status, { ...s.headers, 'content-length': s.bytes.length });
      res.end(s.bytes);
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
