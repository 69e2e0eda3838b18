/**
 * A/B of two builds (or two environments) of Kapibara on one scenario, for changes whose
 * effect is smaller than the spread of `npm run bench` on a shared machine: both servers
 * run at once and take turns in 1-second bursts (A, B, B, A, ...), and the figure is the
 * servers' own CPU time per request (from /proc, so Linux only) and their median
 * requests/s. Not part of `npm run bench`: it compares code, it measures no target.
 *
 *   node dist/bench/ab.js <scenario name part> [cycles] [envA json] [envB json] [checkout B]
 *   AB_DIR_A=<checkout A> AB_STORE=postgres DATABASE_URL=… node dist/bench/ab.js memo 10
 *
 * A checkout is a built one (`npx tsc -p tsconfig.json`); the default is this one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { scenarios } from './scenarios.js';
import { freshDatabase } from './databases.js';
import { processCpuMs } from './proc.js';

const [name, cycles = '10', envA = '{}', envB = '{}', dirB] = process.argv.slice(2);
const scenario = scenarios.find((x) => x.name.includes(name ?? ''));
if (!name || !scenario) throw new Error(`usage: ab.js <one of: ${scenarios.map((s) => s.name).join(' | ')}> [cycles] [envA] [envB] [checkout B]`);
const store = process.env.AB_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** Each server gets a database of its own (a scenario's setup resets the store), dropped at the end. */
const databases: { url: string; drop(): Promise<void> }[] = [];
async function databaseFor(): Promise<string> {
  if (!process.env.DATABASE_URL) throw new Error('AB_STORE=postgres needs DATABASE_URL');
  const database = await freshDatabase(process.env.DATABASE_URL);
  databases.push(database);
  return database.url;
}

interface Side {
  child: ChildProcess;
  run(seconds: number): ReturnType<typeof autocannon>;
  cpuMs(): number;
  usedMs: number;
  requests: number;
  failed: number;
  rps: number[];
}

async function start(env: string, dir: string | undefined): Promise<Side> {
  const script = dir ? `${dir}/dist/bench/server.js` : fileURLToPath(new URL('./server.js', import.meta.url));
  const arg = store === 'postgres' ? await databaseFor() : '';
  const child = fork(script, [store, arg], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...(JSON.parse(env) as Record<string, string>) } });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const origin = `http://127.0.0.1:${port}`;
  const prepared = await scenario!.setup(origin);
  const specs = (Array.isArray(prepared.request) ? prepared.request : [prepared.request]).map((x) => ({ method: x.method, path: x.path, headers: x.headers, body: x.body }));
  const cpuMs = () => processCpuMs(child.pid!);
  return { child, run: (seconds) => autocannon({ url: origin, connections: 32, duration: seconds, requests: specs }), cpuMs, usedMs: 0, requests: 0, failed: 0, rps: [] };
}

const a = await start(envA, process.env.AB_DIR_A);
const b = await start(envB, dirB);
await a.run(2);
await b.run(2);
for (let i = 0; i < Number(cycles); i++) {
  for (const side of i % 2 ? [b, a] : [a, b]) {
    const before = side.cpuMs();
    const r = await side.run(1);
    side.usedMs += side.cpuMs() - before;
    side.requests += r.requests.total;
    side.failed += r.non2xx + r.errors;
    side.rps.push(r.requests.total / r.duration);
  }
}
const perRequest = (s: Side) => (s.usedMs * 1000) / s.requests;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(
  `${scenario.name} [${store}]: A ${perRequest(a).toFixed(1)} µs CPU/request, ${median(a.rps).toFixed(0)} req/s | B ${perRequest(b).toFixed(1)} µs, ${median(b.rps).toFixed(0)} req/s | ` +
    `B/A CPU ${(perRequest(b) / perRequest(a)).toFixed(3)}, req/s ${(median(b.rps) / median(a.rps)).toFixed(3)}` +
    (a.failed || b.failed ? ` | FAILED answers: A ${a.failed}, B ${b.failed}` : ''),
);
await Promise.all([a, b].map((side) => new Promise((resolve) => side.child.once('exit', resolve).kill('SIGTERM'))));
for (const database of databases) await database.drop();
