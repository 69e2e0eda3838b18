/**
 * The bare baseline: a plain node:http server that loads nothing of Kapibara (this file
 * imports node:http alone) and answers each measured request with the exact bytes Kapibara
 * gave for it: status, every header but Date, body. Answers are keyed by
 * `authorization + path`; the first is the default. Reports its port over IPC.
 */
import { createServer } from 'node:http';

type Sample = { key: string; status: number; headers: [string, string][]; body: string };
const samples = (JSON.parse(process.argv[2]) as Sample[]).map((s) => ({ ...s, bytes: Buffer.from(s.body, 'base64') }));
const byKey = new Map(samples.map((s) => [s.key, s]));

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const s = byKey.get(`${req.headers.authorization ?? ''} ${req.url}`) ?? samples[0];
    res.writeHead(s.status, s.headers.flat());
    res.end(s.bytes);
  });
});
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
