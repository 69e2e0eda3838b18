/**
 * Instructions per request: what a scenario's request costs Kapibara's server, counted by
 * valgrind's callgrind instead of timed, against the bare server answering the same bytes.
 * At the same settings, a count of `/v2/user/me` or a memo send is the same from run to run
 * (within half a percent) on a quiet machine, where a throughput ratio on a shared 2-core
 * machine moves by a tenth: it tells whether a change made a request cheaper. Beside a busy
 * machine (a test run on both cores) a memo send once counted 15% more: count when it is quiet.
 * Counts move with the run's length (INSTRUCTIONS_WARM_UP, INSTRUCTIONS_REQUESTS), most for
 * large answers (the friends page): compare builds at the same settings.
 *
 *   node dist/bench/instructions.js [scenario name part] [checkout ...]
 *
 * Counts the server's main thread (the event loop: Node's HTTP, Fastify, Kapibara, SQLite)
 * in user space, on SQLite, with 32 requests in flight as in `npm run bench` (so sends are
 * stored in batches as under load), after a warm-up. Not counted: the kernel (the same
 * bytes cost both servers the same there), and V8's compiler and collector threads. A
 * checkout is a built one (`npx tsc -p tsconfig.json`); the default is this one, and
 * several are counted in turn (an A/B). Needs valgrind (`apt-get install valgrind`).
 * Not part of `npm run bench`: it sets no target.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { capture, checkIdentical } from './answers.js';
import { scenarios, type RequestSpec } from './scenarios.js';

const WARM_UP = Number(process.env.INSTRUCTIONS_WARM_UP ?? 3000);
const COUNTED = Number(process.env.INSTRUCTIONS_REQUESTS ?? 3000);
const IN_FLIGHT = 32;

interface Counted {
  origin: string;
  child: ChildProcess;
  folder: string;
}

/** Starts `script` under callgrind with counting off; it reports its port over IPC. */
async function underCallgrind(script: string, args: string[]): Promise<Counted> {
  const folder = mkdtempSync(join(tmpdir(), 'kapibara-callgrind-'));
  const child = spawn(
    'valgrind',
    ['-q', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', '--smc-check=all', `--callgrind-out-file=${folder}/cg.%p`, process.execPath, script, ...args],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const port = await new Promise<number>((done, fail) => {
    child.once('message', (m: { port: number }) => done(m.port));
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`${script} under valgrind exited with ${code}`)));
  });
  return { origin: `http://127.0.0.1:${port}`, child, folder };
}

function load(origin: string, spec: RequestSpec, amount: number) {
  return autocannon({ url: origin, connections: IN_FLIGHT, amount, timeout: 60, requests: [{ method: spec.method, path: spec.path, headers: spec.headers, body: spec.body }] });
}

/** Main-thread instructions per request over COUNTED requests after WARM_UP. */
async function count(target: Counted, spec: RequestSpec): Promise<number> {
  const warm = await load(target.origin, spec, WARM_UP);
  if (warm.non2xx || warm.errors) throw new Error(`warm-up: ${warm.non2xx} non-2xx answers, ${warm.errors} errors`);
  const pid = String(target.child.pid);
  execFileSync('callgrind_control', ['--instr=on', pid], { stdio: 'ignore' });
  const counted = await load(target.origin, spec, COUNTED);
  execFileSync('callgrind_control', ['--instr=off', pid], { stdio: 'ignore' });
  execFileSync('callgrind_control', ['--dump', pid], { stdio: 'ignore' });
  if (counted.non2xx || counted.errors) throw new Error(`${counted.non2xx} non-2xx answers, ${counted.errors} errors`);
  // Thread 1 of the first dump: `cg.<pid>.1-01`.
  const file = readdirSync(target.folder).find((f) => f.endsWith('.1-01'));
  if (!file) throw new Error(`no callgrind dump in ${target.folder}`);
  const totals = [...readFileSync(join(target.folder, file), 'utf8').matchAll(/^totals: (\d+)/gm)].pop();
  if (!totals) throw new Error(`no totals in ${file}`);
  return Number(totals[1]) / counted.requests.total;
}

/** SIGTERM, so that the server removes its data folder (bench/server.ts); SIGKILL if it hangs. */
async function stop(target: Counted): Promise<void> {
  await new Promise((done) => {
    const hung = setTimeout(() => target.child.kill('SIGKILL'), 30_000);
    target.child.once('exit', () => {
      clearTimeout(hung);
      done(undefined);
    });
    target.child.kill('SIGTERM');
  });
  rmSync(target.folder, { recursive: true, force: true });
}

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('valgrind is not installed: apt-get install valgrind');
}

const [name = '', ...checkouts] = process.argv.slice(2);
const chosen = scenarios.filter((s) => s.name.includes(name));
if (chosen.length === 0) throw new Error(`no scenario matches "${name}": ${scenarios.map((s) => s.name).join(' | ')}`);
// This file runs as <checkout>/dist/bench/instructions.js.
const dirs = checkouts.length ? checkouts.map((c) => resolve(c)) : [fileURLToPath(new URL('../..', import.meta.url))];
const round = (n: number) => Math.round(n).toLocaleString('en');

for (const scenario of chosen) {
  const counts: { dir: string; n: number }[] = [];
  let bareCount: number | undefined;
  for (const dir of dirs) {
    const kapibara = await underCallgrind(join(dir, 'dist/bench/server.js'), ['sqlite', '']);
    try {
      const prepared = await scenario.setup(kapibara.origin);
      const spec = Array.isArray(prepared.request) ? prepared.request[0] : prepared.request;
      if (bareCount === undefined) {
        const sample = await capture(kapibara.origin, spec);
        const { spec: _spec, ...bytes } = sample;
        const bare = await underCallgrind(fileURLToPath(new URL('./bare.js', import.meta.url)), [JSON.stringify([bytes])]);
        try {
          await checkIdentical(kapibara.origin, bare.origin, [sample]);
          bareCount = await count(bare, spec);
        } finally {
          await stop(bare);
        }
      }
      counts.push({ dir, n: await count(kapibara, spec) });
    } finally {
      await stop(kapibara);
    }
  }
  console.log(`${scenario.name} [sqlite], main-thread instructions per request (${IN_FLIGHT} in flight, ${COUNTED} counted):`);
  console.log(`  bare server, same bytes: ${round(bareCount!)}`);
  for (const { dir, n } of counts) {
    console.log(`  Kapibara${dirs.length > 1 ? ` (${dir})` : ''}: ${round(n)} (bare/Kapibara ${(bareCount! / n).toFixed(2)}: not the throughput ratio, which also counts the kernel and the load generator)`);
  }
  if (counts.length > 1) console.log(`  B/A: ${counts.slice(1).map((c) => (c.n / counts[0].n).toFixed(3)).join(', ')}`);
}
