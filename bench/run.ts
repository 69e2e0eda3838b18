/**
 * `npm run bench`: requests/s and p99 latency of Kapibara's hot paths on SQLite and on
 * PostgreSQL, each against a bare node:http server returning the same bytes, measured in the
 * same run with the same load generator (autocannon, in this process; servers run in child
 * processes). Prints ratios; writes the figures to bench/results.json (not committed).
 * Options: BENCH_SECONDS (default 10: the measured seconds of each side, split in rounds),
 * BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 32), BENCH_ONLY=name,name.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { startPgServer } from '../test/helpers/pg-server.js';
import { scenarios, type Scenario, type RequestSpec } from './scenarios.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const ONLY = process.env.BENCH_ONLY?.split(',');

interface Target {
  origin: string;
  child: ChildProcess;
}

async function startTarget(kind: string, arg = ''): Promise<Target> {
  const execArgv = process.env.BENCH_PROFILE && kind !== 'bare' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = fork(fileURLToPath(new URL('./server.js', import.meta.url)), [kind, arg], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  return { origin: `http://127.0.0.1:${port}`, child };
}

function stopTarget(t: Target): Promise<void> {
  return new Promise((resolve) => {
    t.child.once('exit', () => resolve());
    t.child.kill('SIGTERM');
  });
}

export interface Measurement {
  rps: number;
  p99: number;
  /** Mean latency, ms. */
  mean: number;
  errors: number;
  non2xx: number;
}

function loader(origin: string, spec: RequestSpec | RequestSpec[]) {
  const specs = Array.isArray(spec) ? spec : [spec];
  return (duration: number) =>
    autocannon({
      url: origin,
      connections: CONNECTIONS,
      duration,
      requests: specs.map((s) => ({ method: s.method, path: s.path, headers: s.headers, body: s.body })),
    });
}

type Result = Awaited<ReturnType<ReturnType<typeof loader>>>;

/** Rounds of one target merged: requests/s over all of them, the worst p99, mean of means. */
function merged(results: Result[]): Measurement {
  const sum = (f: (r: Result) => number) => results.reduce((a, r) => a + f(r), 0);
  return {
    rps: sum((r) => r.requests.total) / sum((r) => r.duration),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    mean: sum((r) => r.latency.mean) / results.length,
    errors: sum((r) => r.errors + r.timeouts),
    non2xx: sum((r) => r.non2xx),
  };
}

/**
 * Throughput of Kapibara and of the bare server, measured in alternating rounds (ABBA:
 * Kapibara, bare, bare, Kapibara, ...), each after its own warm-up, so that a slow spell of
 * the machine weighs on both sides alike. The ratio is the median of the rounds' ratios.
 */
async function compareThroughput(kapibara: string, bare: string, spec: RequestSpec | RequestSpec[]) {
  const k = loader(kapibara, spec);
  const b = loader(bare, spec);
  const warm = Math.max(1, Math.round(SECONDS / 4)); // JIT, caches, connections
  await k(warm);
  await b(warm);
  const round = Math.max(1, Math.round(SECONDS / ROUNDS));
  const ks: Result[] = [];
  const bs: Result[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      ks.push(await k(round));
      bs.push(await b(round));
    } else {
      bs.push(await b(round));
      ks.push(await k(round));
    }
  }
  const ratios = ks.map((r, i) => r.requests.total / r.duration / (bs[i].requests.total / bs[i].duration)).sort((x, y) => x - y);
  return { kapibara: merged(ks), bare: merged(bs), ratio: ratios[Math.floor(ratios.length / 2)], ratios };
}

/**
 * Latency without queueing: one keep-alive connection, one request at a time, timed in
 * microseconds (autocannon's histogram has millisecond resolution). The client's own cost
 * is the same for every case compared.
 */
async function latency(origin: string, spec: RequestSpec, seconds: number): Promise<Measurement> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(origin);
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = request(
        { host: url.hostname, port: url.port, method: spec.method, path: spec.path, headers: spec.headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`${spec.path} → ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(spec.body);
    });
  for (let i = 0; i < 200; i++) await once(); // warm-up
  const samples: number[] = [];
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) samples.push(await once());
  agent.destroy();
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { rps: 1000 / mean, p99: samples[Math.floor(samples.length * 0.99)], mean, errors: 0, non2xx: 0 };
}

/** The exact bytes Kapibara answers, for the bare baseline to repeat. */
async function capture(origin: string, spec: RequestSpec) {
  const res = await fetch(origin + spec.path, { method: spec.method, headers: spec.headers, body: spec.body });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`${spec.method} ${spec.path} → ${res.status} ${body.toString()}`);
  return {
    key: `${spec.headers?.authorization ?? ''} ${spec.path}`,
    status: res.status,
    headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' },
    body: body.toString('base64'),
  };
}

interface Row {
  scenario: string;
  store: string;
  kapibara: Measurement;
  bare: Measurement;
  ratio: number;
  p99Ratio: number;
  extra?: Record<string, number>;
}

async function runScenario(s: Scenario, store: string, arg: string): Promise<Row> {
  const kapibara = await startTarget(store, arg);
  try {
    const prepared = await s.setup(kapibara.origin);
    const main = Array.isArray(prepared.request) ? prepared.request[0] : prepared.request;
    const samples = [await capture(kapibara.origin, main)];
    for (const spec of Object.values(prepared.compare ?? {})) samples.push(await capture(kapibara.origin, spec));
    const bare = await startTarget('bare', JSON.stringify(samples));
    try {
      const { kapibara: k, bare: b, ratio, ratios } = await compareThroughput(kapibara.origin, bare.origin, prepared.request);
      const extra: Record<string, number> = {};
      ratios.forEach((r, i) => (extra[`round_ratio_${i}`] = r));
      for (const [name, spec] of Object.entries(prepared.compare ?? {})) {
        const m = await latency(kapibara.origin, spec, Math.max(1, SECONDS / 2));
        extra[`${name}_rps`] = m.rps;
        extra[`${name}_p99`] = m.p99;
        extra[`${name}_mean`] = m.mean;
        extra[`bare_${name}_mean`] = (await latency(bare.origin, spec, Math.max(1, SECONDS / 2))).mean;
      }
      return { scenario: s.name, store, kapibara: k, bare: b, ratio, p99Ratio: k.p99 / Math.max(b.p99, 1), extra };
    } finally {
      await stopTarget(bare);
    }
  } finally {
    await stopTarget(kapibara);
  }
}

const ratiosOf = (row: Row) => Object.entries(row.extra ?? {}).filter(([k]) => k.startsWith('round_ratio_')).map(([, v]) => v);

const pg = process.env.DATABASE_URL ? undefined : await startPgServer();
const pgUrl = process.env.DATABASE_URL ?? pg!.url;
const rows: Row[] = [];
try {
  for (const s of scenarios) {
    if (ONLY && !ONLY.includes(s.name)) continue;
    for (const [store, arg] of [['sqlite', ''], ['postgres', pgUrl]] as const) {
      const row = await runScenario(s, store, arg);
      rows.push(row);
      const note = s.describe ? ` ${s.describe(row.extra ?? {})}` : '';
      console.log(
        `${s.name} [${store}]: ${row.kapibara.rps.toFixed(0)} req/s, p99 ${row.kapibara.p99} ms | bare ${row.bare.rps.toFixed(0)} req/s, p99 ${row.bare.p99} ms | throughput ratio ${row.ratio.toFixed(2)}× (median of rounds: ${ratiosOf(row).map((r) => r.toFixed(2)).join(', ')})${s.target && store === 'sqlite' ? ` (target ≥ ${s.target}×: ${row.ratio >= s.target ? 'met' : 'NOT met'})` : ''}${note}` +
          (row.kapibara.errors || row.kapibara.non2xx ? ` | errors ${row.kapibara.errors}, non-2xx ${row.kapibara.non2xx}` : ''),
      );
    }
  }
} finally {
  await pg?.stop();
}
writeFileSync(new URL('../../bench/results.json', import.meta.url), JSON.stringify({ seconds: SECONDS, connections: CONNECTIONS, rows }, null, 2) + '\n');
