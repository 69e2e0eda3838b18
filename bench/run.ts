/**
 * `npm run bench`: requests/s and p99 latency of Kapibara's hot paths on SQLite and on
 * PostgreSQL, each against a bare node:http server (bench/bare.ts: loads nothing of
 * Kapibara) returning byte-identical answers, checked before measuring; two instances on one
 * PostgreSQL database against one; and cold start. Measured in the same run with the same
 * load generator (autocannon, in this process; servers run in child processes). Every figure
 * has a target and prints met / NOT met; bench/results.json gets the figures (not committed).
 * Options: BENCH_SECONDS (default 10: the measured seconds of each side, split in rounds),
 * BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 32), BENCH_ONLY=name,name.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { startPgServer } from '../test/helpers/pg-server.js';
import { freshDatabase, query } from './databases.js';
import { memoSend, scenarios, userMe, type RequestSpec, type Scenario, type StoreKind } from './scenarios.js';
import { freePort } from '../src/core/free-port.js';
import { processCpuMs } from './proc.js';
import { capture, checkIdentical } from './answers.js';

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
  const script = kind === 'bare' ? './bare.js' : './server.js';
  const args = kind === 'bare' ? [arg] : [kind, arg];
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
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
 * Latency without queueing: one keep-alive connection per case, one request at a time,
 * timed in microseconds (autocannon's histogram has millisecond resolution). The cases
 * (Kapibara's and the bare server's) take turns in slices of 100 ms until each has had
 * `seconds`, so a slow spell of a shared machine weighs on every case alike; measured one
 * after another, the same bare answer's latency differed by 2× between cases. The client's
 * own cost is the same for every case compared.
 */
async function latencies(cases: { origin: string; spec: RequestSpec }[], seconds: number): Promise<Measurement[]> {
  const runs = cases.map(({ origin, spec }) => {
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
    return { agent, once, samples: [] as number[], spent: 0 };
  });
  for (const run of runs) for (let i = 0; i < 200; i++) await run.once(); // warm-up
  const SLICE = 100;
  while (runs.some((r) => r.spent < seconds * 1000)) {
    for (const run of runs) {
      const started = performance.now();
      while (performance.now() - started < SLICE) run.samples.push(await run.once());
      run.spent += performance.now() - started;
    }
  }
  return runs.map(({ agent, samples }) => {
    agent.destroy();
    samples.sort((a, b) => a - b);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    return { rps: 1000 / mean, p99: samples[Math.floor(samples.length * 0.99)], mean, errors: 0, non2xx: 0 };
  });
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
    const bare = await startTarget('bare', JSON.stringify(samples.map(({ spec: _spec, ...sample }) => sample)));
    try {
      await checkIdentical(kapibara.origin, bare.origin, samples);
      const { kapibara: k, bare: b, ratio, ratios } = await compareThroughput(kapibara.origin, bare.origin, prepared.request);
      const extra: Record<string, number> = {};
      ratios.forEach((r, i) => (extra[`round_ratio_${i}`] = r));
      const compared = Object.entries(prepared.compare ?? {});
      if (compared.length > 0) {
        const measured = await latencies(
          compared.flatMap(([, spec]) => [{ origin: kapibara.origin, spec }, { origin: bare.origin, spec }]),
          Math.max(1, SECONDS / 2),
        );
        compared.forEach(([name], i) => {
          const [m, b] = [measured[2 * i], measured[2 * i + 1]];
          extra[`${name}_rps`] = m.rps;
          extra[`${name}_p99`] = m.p99;
          extra[`${name}_mean`] = m.mean;
          extra[`bare_${name}_mean`] = b.mean;
        });
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
const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
const verdicts: { figure: string; met: boolean }[] = [];

/**
 * Two instances on one PostgreSQL database against one, in alternating rounds (one, both,
 * both, one): the load generator's connections split over the two. For a send, every
 * acknowledged (2xx) message must be stored: counted in the database after.
 */
interface Scaling {
  /** Median of the rounds' ratios (both / one). */
  ratio: number;
  ratios: number[];
  /** Mean requests/s of one target alone and of both together. */
  one: number;
  both: number;
  /** The servers' own CPU time per answered request (µs; Linux, NaN elsewhere). */
  cpuOne: number;
  cpuBoth: number;
  /** 2xx answers over every round, warm-ups included. */
  acknowledged: number;
}

/**
 * One target against two at once, in alternating rounds (one, both, both, one): the load
 * generator's connections split over the two, after a warm-up of each way.
 */
async function oneVersusTwo(a: Target, b: Target, spec: RequestSpec): Promise<Scaling> {
  let acknowledged = 0;
  const cpu = { one: { ms: 0, requests: 0 }, both: { ms: 0, requests: 0 } };
  const serversMs = () => (process.platform === 'linux' ? processCpuMs(a.child.pid!) + processCpuMs(b.child.pid!) : NaN);
  const run = async (targets: Target[], seconds: number, tally?: { ms: number; requests: number }) => {
    const before = serversMs();
    const results = await Promise.all(
      targets.map((t) =>
        autocannon({ url: t.origin, connections: Math.max(1, Math.round(CONNECTIONS / targets.length)), duration: seconds, requests: [{ method: spec.method, path: spec.path, headers: spec.headers, body: spec.body }] }),
      ),
    );
    for (const r of results) acknowledged += r['2xx'];
    if (tally) {
      tally.ms += serversMs() - before;
      tally.requests += results.reduce((sum, r) => sum + r.requests.total, 0);
    }
    return results.reduce((sum, r) => sum + r.requests.total / r.duration, 0);
  };
  const warm = Math.max(1, Math.round(SECONDS / 4));
  await run([a], warm);
  await run([a, b], warm);
  const round = Math.max(1, Math.round(SECONDS / ROUNDS));
  const ones: number[] = [];
  const boths: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      ones.push(await run([a], round, cpu.one));
      boths.push(await run([a, b], round, cpu.both));
    } else {
      boths.push(await run([a, b], round, cpu.both));
      ones.push(await run([a], round, cpu.one));
    }
  }
  const ratios = boths.map((x, i) => x / ones[i]).sort((x, y) => x - y);
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const perRequest = (t: { ms: number; requests: number }) => (t.ms * 1000) / t.requests;
  return { ratio: ratios[Math.floor(ratios.length / 2)], ratios, one: mean(ones), both: mean(boths), cpuOne: perRequest(cpu.one), cpuBoth: perRequest(cpu.both), acknowledged };
}

/**
 * Two instances on one PostgreSQL database against one; for a send, every acknowledged (2xx)
 * message must be stored (counted in the database after). Then the same rounds
 * with two bare servers (bench/bare.ts, Kapibara's bytes) against one: what the machine
 * itself lets two servers do beside the load generator, measured in the same run.
 */
async function twoInstances(s: Scenario, base: string): Promise<{ kapibara: Scaling; bare: Scaling; stored: number }> {
  const database = await freshDatabase(base);
  let kapibara: Scaling;
  let stored: number;
  let sample: Awaited<ReturnType<typeof capture>>;
  const a = await startTarget('postgres', database.url);
  const b = await startTarget('postgres', database.url);
  try {
    const prepared = await s.setup(a.origin);
    const spec = Array.isArray(prepared.request) ? prepared.request[0] : prepared.request;
    sample = await capture(a.origin, spec);
    kapibara = await oneVersusTwo(a, b, spec);
    stored = kapibara.acknowledged;
    // Counted in the database itself: the control plane's counts stop at 1000 (a run that
    // read them once reported 405,899 of 406,899 sends lost).
    if (spec.method === 'POST') stored = Number((await query<{ n: string }>(database.url, 'SELECT count(*) AS n FROM talk_messages'))[0].n);
  } finally {
    await stopTarget(a);
    await stopTarget(b);
    await database.drop();
  }
  const { spec, ...answer } = sample;
  const bareA = await startTarget('bare', JSON.stringify([answer]));
  const bareB = await startTarget('bare', JSON.stringify([answer]));
  try {
    return { kapibara, bare: await oneVersusTwo(bareA, bareB, spec), stored };
  } finally {
    await stopTarget(bareA);
    await stopTarget(bareB);
  }
}

/** Milliseconds from spawning `args` (with PORT in its environment) to its first 200 on `path`. */
async function spawnToFirst200(args: string[], path: string, env: Record<string, string> = {}): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, args.map((a) => a.replace('$PORT', String(port))), { stdio: 'ignore', env: { ...process.env, ...env, PORT: String(port) } });
  try {
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
        });
        req.on('error', () => resolve(false));
        req.end();
      });
      if (ok) return performance.now() - started;
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with status ${child.exitCode} before answering`);
      if (performance.now() - started > 30_000) throw new Error(`${args.join(' ')} did not answer within 30 s`);
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
  }
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const COLD_STARTS = Number(process.env.BENCH_COLD_STARTS ?? 9);

/** Cold start of `kapibara start` on SQLite, fresh and existing data folder, against a bare node:http process. */
async function coldStart() {
  // What `npx kapibara start` runs (bin/kapibara.js imports dist/src/cli.js and calls main).
  const cli = fileURLToPath(new URL('../../bin/kapibara.js', import.meta.url));
  const bare = ['-e', "require('node:http').createServer((q, r) => r.end('{}')).listen(Number(process.env.PORT), '127.0.0.1')"];
  const fresh: number[] = [];
  const existing: number[] = [];
  const baseline: number[] = [];
  // Starts vary by half between runs on a shared machine: enough of them, in turns with the bare process.
  for (let i = 0; i < COLD_STARTS; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'kapibara-cold-'));
    try {
      const args = [cli, 'start', '--port', '$PORT', '--data', dir];
      fresh.push(await spawnToFirst200(args, '/.well-known/openid-configuration'));
      existing.push(await spawnToFirst200(args, '/.well-known/openid-configuration'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    baseline.push(await spawnToFirst200(bare, '/'));
  }
  return { fresh: median(fresh), existing: median(existing), baseline: median(baseline) };
}

const pg_ = process.env.DATABASE_URL ? undefined : await startPgServer();
const pgUrl = process.env.DATABASE_URL ?? pg_!.url;
const rows: Row[] = [];
const other: Record<string, unknown> = {};
try {
  for (const s of scenarios) {
    if (ONLY && !ONLY.includes(s.name)) continue;
    for (const [store, arg] of [['sqlite', ''], ['postgres', pgUrl]] as [StoreKind, string][]) {
      const row = await runScenario(s, store, arg);
      rows.push(row);
      const target = s.targets[store];
      verdicts.push({ figure: `${s.name} [${store}] ≥ ${target}×`, met: row.ratio >= target });
      const notes = s.describe?.(row.extra ?? {}, store) ?? [];
      for (const n of notes) if (n.met !== undefined) verdicts.push({ figure: `${s.name} [${store}]: ${n.text.split(':')[0]}`, met: n.met });
      console.log(
        `${s.name} [${store}]: ${row.kapibara.rps.toFixed(0)} req/s, p99 ${row.kapibara.p99} ms | bare ${row.bare.rps.toFixed(0)} req/s, p99 ${row.bare.p99} ms | throughput ratio ${row.ratio.toFixed(2)}× (median of rounds: ${ratiosOf(row).map((r) => r.toFixed(2)).join(', ')}) (target ≥ ${target}×: ${verdict(row.ratio >= target)})` +
          (row.kapibara.errors || row.kapibara.non2xx ? ` | errors ${row.kapibara.errors}, non-2xx ${row.kapibara.non2xx}` : '') +
          notes.map((n) => `\n    ${n.text}${n.met === undefined ? '' : ` (${verdict(n.met)})`}`).join(''),
      );
    }
  }
  for (const [s, target] of [[userMe, 1.6], [memoSend, 1.3]] as [Scenario, number][]) {
    const name = `two instances on one PostgreSQL: ${s.name}`;
    if (ONLY && !ONLY.includes(name) && !ONLY.includes('two instances')) continue;
    const { kapibara: r, bare, stored } = await twoInstances(s, pgUrl);
    other[name] = { ...r, stored, bare };
    // Requests still in flight when a round ends are stored but not counted as answered:
    // stored may exceed acknowledged; an acknowledged message missing is a loss.
    const lost = Math.max(0, r.acknowledged - stored);
    verdicts.push({ figure: `${name} ≥ ${target}× one`, met: r.ratio >= target }, { figure: `${name}: 0 acknowledged writes lost`, met: lost === 0 });
    console.log(
      `${name}: both ${r.both.toFixed(0)} req/s vs one ${r.one.toFixed(0)} req/s = ${r.ratio.toFixed(2)}× (median of rounds: ${r.ratios.map((x) => x.toFixed(2)).join(', ')}) (target ≥ ${target}×: ${verdict(r.ratio >= target)})` +
        (s === memoSend ? `; acknowledged ${r.acknowledged}, stored ${stored} (with sends in flight at the end of rounds), lost ${lost} (target 0: ${verdict(lost === 0)})` : '') +
        // Not targets: what the machine lets two servers do at all, and what two cost per request.
        `\n    two bare servers vs one, same rounds and bytes: ${bare.ratio.toFixed(2)}× (median of rounds: ${bare.ratios.map((x) => x.toFixed(2)).join(', ')}); Kapibara's scaling over the bare servers': ${(r.ratio / bare.ratio).toFixed(2)}×` +
        `\n    the servers' CPU per request, both vs one: Kapibara ${r.cpuBoth.toFixed(1)} vs ${r.cpuOne.toFixed(1)} µs = ${(r.cpuBoth / r.cpuOne).toFixed(2)}×, bare ${bare.cpuBoth.toFixed(1)} vs ${bare.cpuOne.toFixed(1)} µs = ${(bare.cpuBoth / bare.cpuOne).toFixed(2)}×`,
    );
  }
  if (!ONLY || ONLY.includes('cold start')) {
    const c = await coldStart();
    other['cold start'] = c;
    verdicts.push({ figure: 'cold start, SQLite, existing data ≤ 300 ms', met: c.existing <= 300 });
    console.log(
      `cold start (spawn to first 200, median of ${COLD_STARTS}), SQLite: existing data ${c.existing.toFixed(0)} ms (target ≤ 300 ms: ${verdict(c.existing <= 300)}), fresh data folder ${c.fresh.toFixed(0)} ms; bare node:http process ${c.baseline.toFixed(0)} ms (existing ${(c.existing / c.baseline).toFixed(2)}× bare)`,
    );
  }
} finally {
  await pg_?.stop();
}
const missed = verdicts.filter((v) => !v.met);
console.log(`\n${verdicts.length - missed.length} of ${verdicts.length} targets met${missed.length ? `; NOT met: ${missed.map((v) => v.figure).join('; ')}` : ''}`);
writeFileSync(new URL('../../bench/results.json', import.meta.url), JSON.stringify({ seconds: SECONDS, connections: CONNECTIONS, rows, other, verdicts }, null, 2) + '\n');
