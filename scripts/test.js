#!/usr/bin/env node
// The whole test suite, as `npm test` and CI run it:
//   1. make sure Debian's Chromium is there for the browser tests (installs it as root);
//   2. compile (typecheck included) to dist/, and bundle the browser SDK (scripts/build-sdk.js);
//   3. start one throwaway PostgreSQL server unless DATABASE_URL is set;
//   4. run every dist/test/**/*.test.js with node's test runner, on SQLite and PostgreSQL.
// Extra arguments are passed to `node --test` (e.g. a file name, or --test-name-pattern=…).
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const CHROMIUM = process.env.KAPIBARA_CHROMIUM ?? '/usr/bin/chromium';

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    console.error(`Chromium is missing at ${CHROMIUM} and this is not root: run "apt-get install -y chromium" as root.`);
    process.exit(1);
  }
  console.log('Installing Debian\'s chromium for the browser tests…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
}

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

// KAPIBARA_OUT_DIR lets several checkouts' worth of work build side by side (default dist).
const OUT = process.env.KAPIBARA_OUT_DIR ?? 'dist';

ensureChromium();
// Type errors fail the run, but only after the tests ran, so one broken file does not
// hide every other result.
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--outDir', OUT], { stdio: 'inherit' });
// The browser SDK (src/sdk) is typechecked and bundled on its own (scripts/build-sdk.js).
const sdk = spawnSync(process.execPath, ['scripts/build-sdk.js', OUT], { stdio: 'inherit' });
// The start bundle bin/kapibara.js runs (scripts/build-start.js), from this build's modules.
const start = spawnSync(process.execPath, ['scripts/build-start.js', OUT], { stdio: 'inherit' });
const typecheckFailed = tsc.status !== 0 || sdk.status !== 0 || start.status !== 0;

const { startPgServer } = await import(new URL(`../${OUT}/test/helpers/pg-server.js`, import.meta.url).href);
let pg;
const env = { ...process.env };
if (!env.DATABASE_URL) {
  pg = await startPgServer();
  env.KAPIBARA_TEST_PG_URL = pg.url;
}

const extra = process.argv.slice(2);
const files = extra.some((a) => a.endsWith('.js') || a.endsWith('.ts'))
  ? extra.filter((a) => a.endsWith('.js') || a.endsWith('.ts')).map((a) => a.replace(/^test\//, `${OUT}/test/`).replace(/\.ts$/, '.js'))
  : testFiles(`${OUT}/test`);
const flags = extra.filter((a) => !(a.endsWith('.js') || a.endsWith('.ts')));
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', '--test-timeout=600000', ...flags, ...files], {
  stdio: 'inherit',
  env,
});
if (pg) await pg.stop();
if (typecheckFailed) console.error('\nThe TypeScript compiler reported errors (above): the run fails.');
process.exit(typecheckFailed ? 1 : (result.status ?? 1));
