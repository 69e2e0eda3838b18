import { mkdirSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { parseServerConfig, isLoopback, needsOperatorToken, newOperatorToken, UsageError, type ServerConfig } from './config.js';
import { startKapibara } from './testing.js';
import { VERSION } from './version.js';
import type { Store } from './db/index.js';
import { openStore, stateTables } from './kapibara.js';
import { buildApp } from './app.js';
import { Clock } from './core/clock.js';
import { importState, resetState, StateFormatError, storedPlatformTime, writeStateFile, type StateDocument } from './store/state.js';
import { seedDemo, DEMO_APP_ID } from './demo.js';
import { listenTls, loadTlsMaterial, TLS_HOST_NAMES, TLS_IPS } from './core/tls.js';
import { jsonTextProblem } from './core/json.js';

/** `text` in lines of at most 90 characters, each indented by `indent` spaces. */
function wrap(text: string, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > 90) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.map((l) => ' '.repeat(indent) + l).join('\n');
}

const STORE_OPTIONS = `store options (every command):
  --data DIR            data folder for the SQLite store (default ./data; env KAPIBARA_DATA;
                        :memory: for a store that lives as long as the command)
  --database-url URL    use PostgreSQL instead of SQLite: postgres://… (env DATABASE_URL)
  --lock-wait S         seconds a call waits for a lock another connection to the store holds
                        before it answers 503 (default 5; env KAPIBARA_LOCK_WAIT)
`;

const SERVER_OPTIONS = `server options:
  -p, --port N          port to listen on (default 9876; env PORT)
  --host H              address to bind (default 127.0.0.1; env HOST)
  --public-url URL      origin used in absolute URLs (env KAPIBARA_PUBLIC_URL)
  --operator-token T    protects the control plane (env KAPIBARA_OPERATOR_TOKEN);
                        generated when binding to a non-loopback address, or with
                        --trust-proxy or a --public-url on another host
  --tls-port N          also serve HTTPS on N with a self-signed certificate for
${wrap([...TLS_HOST_NAMES, ...TLS_IPS].join(', '), 24)}
                        (env KAPIBARA_TLS_PORT; docs/connecting-an-app.md)
  --allowed-host NAME   also serve this Host name (repeatable, comma-separated; *.example.com
                        for subdomains, * for any; env KAPIBARA_ALLOWED_HOSTS). Loopback names,
                        IP addresses, *.kakao.com and the --public-url host are always served
  --trust-proxy LIST    believe X-Forwarded-* only from these proxy addresses or CIDRs
                        (repeatable, comma-separated; default none; env KAPIBARA_TRUST_PROXY)
  --request-timeout S   seconds to receive a whole request (default 60; env KAPIBARA_REQUEST_TIMEOUT)
  --headers-timeout S   seconds to receive its headers (default 20; env KAPIBARA_HEADERS_TIMEOUT)
  --max-connections-per-client N
                        open connections per client address (default 256, 0: no limit;
                        env KAPIBARA_MAX_CONNECTIONS_PER_CLIENT); docs/security.md
  --no-demo             do not create the demo app and people on first start
  env LOG_LEVEL         the server log's level on stdout (JSON lines): default warn (errors
                        and warnings); info adds a line per request, debug and trace more
`;

const USAGE = `usage: kapibara <command> [options]

commands:
  start                 run the server (default port 9876, data in ./data)
  exec -- <command>     run <command> against a fresh Kapibara, then stop it (docs/testing.md)
  seed <file>           add the state in <file> (JSON, docs/state-format.md) to the store
  import <file>         replace all state with <file>
  export [--out file]   print (or write) all state as JSON
  reset                 delete all state
  tls-cert              print the PEM certificate --tls-port serves (to trust it)

kapibara <command> --help describes one command; kapibara --version prints the version.

${STORE_OPTIONS}
${SERVER_OPTIONS}`;

const HELP: Record<string, string> = {
  start: `usage: kapibara start [options]

Runs the server until interrupted. On a store with no apps it first creates the demo app
and people, and prints their keys.

${SERVER_OPTIONS}
${STORE_OPTIONS}`,
  exec: `usage: kapibara exec [options] [--import state.json] [--export-on-exit file] -- <command> [args…]

Starts Kapibara (on a fresh in-memory store unless --data or --database-url names one, on
a free port unless --port is given), waits until /_kapibara/health answers, runs <command>
with KAPIBARA_URL and the demo app's keys in its environment, stops Kapibara and exits
with the command's status.

  --import FILE         start from the state in FILE instead of the demo app and people
  --export-on-exit FILE write all state to FILE when the command has ended

environment given to the command:
  KAPIBARA_URL          http://127.0.0.1:<port> (kauth, kapi and the control plane)
  KAPIBARA_APP_ID, KAPIBARA_REST_API_KEY, KAPIBARA_JAVASCRIPT_KEY, KAPIBARA_NATIVE_KEY,
  KAPIBARA_ADMIN_KEY    the demo app, when the store has it
  KAPIBARA_OPERATOR_TOKEN  when the control plane has one

${SERVER_OPTIONS}
${STORE_OPTIONS}`,
  seed: `usage: kapibara seed <file> [options]

Adds the state in <file> (docs/state-format.md) to the store, in one transaction: the
file is checked whole before anything is written. Shows progress on long files.

${STORE_OPTIONS}`,
  import: `usage: kapibara import <file> [options]

Replaces all state with the state in <file> (docs/state-format.md), in one transaction:
the file is checked whole before anything is written. Shows progress on long files.

${STORE_OPTIONS}`,
  export: `usage: kapibara export [--out file] [options]

Prints all state as JSON (docs/state-format.md), or writes it to --out.

${STORE_OPTIONS}`,
  reset: `usage: kapibara reset [options]

Deletes all state. The signing key and the TLS certificate stay.

${STORE_OPTIONS}`,
  'tls-cert': `usage: kapibara tls-cert [options]

Prints the PEM certificate that --tls-port serves, to add to a client's trust store.

${STORE_OPTIONS}`,
};

/** Options a command does not take (each takes the store options). */
const SERVER_ONLY = [
  '--port', '-p', '--host', '--public-url', '--operator-token', '--tls-port', '--no-demo',
  '--allowed-host', '--trust-proxy', '--request-timeout', '--headers-timeout', '--max-connections-per-client',
];
const NOT_FOR: Record<string, string[]> = {
  start: ['--out', '--import', '--export-on-exit'],
  exec: ['--out'],
  seed: [...SERVER_ONLY, '--out', '--import', '--export-on-exit'],
  import: [...SERVER_ONLY, '--out', '--import', '--export-on-exit'],
  export: [...SERVER_ONLY, '--import', '--export-on-exit'],
  reset: [...SERVER_ONLY, '--out', '--import', '--export-on-exit'],
  'tls-cert': [...SERVER_ONLY, '--out', '--import', '--export-on-exit'],
};

async function open(config: ServerConfig): Promise<Store> {
  if (!config.databaseUrl && config.sqlitePath !== ':memory:') mkdirSync(config.dataDir, { recursive: true });
  return openStore({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath, lockWaitMs: config.lockWaitMs });
}

function readJson(command: string, file: string | undefined): StateDocument {
  if (!file) throw new UsageError(`kapibara ${command}: a JSON file is required (kapibara ${command} <file>)`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const problem = jsonTextProblem(text);
  if (problem) throw new Error(`${file}: ${problem}`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON: ${(err as Error).message}`);
  }
}

/**
 * Rows written so far and the rate: on a terminal one line rewritten at most every 100 ms,
 * otherwise (logs, CI) a line at every tenth of the total.
 */
export function progressReporter(verb: string, stream: NodeJS.WriteStream = process.stderr, started = Date.now()) {
  let lastShown = 0;
  let lastTenth = 0;
  const line = (done: number, total: number) => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    return `${verb} ${done}/${total} rows (${Math.round(done / seconds)} rows/s)`;
  };
  return {
    update(done: number, total: number): void {
      if (total < 1000) return;
      if (stream.isTTY) {
        const now = Date.now();
        if (now - lastShown >= 100 || done === total) {
          lastShown = now;
          stream.write(`\r${line(done, total)}${done === total ? '\n' : ''}`);
        }
        return;
      }
      const tenth = Math.floor((done * 10) / total);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`${line(done, total)}\n`);
      }
    },
  };
}

function refuseOptions(command: string, args: string[]): void {
  for (const arg of args) {
    if (arg === '--') return;
    const flag = arg.split('=')[0];
    if (NOT_FOR[command]?.includes(flag)) throw new UsageError(`kapibara ${command}: ${flag} is not an option of this command (kapibara ${command} --help)`);
  }
}

/** Runs a command; the process's exit code is set when it is not 0 (`exec` passes its command's on). */
export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`kapibara ${VERSION}\n`);
    return;
  }
  if (!HELP[command]) throw new UsageError(`unknown command "${command}" (kapibara --help lists them)`);
  const dashes = rest.indexOf('--');
  const own = dashes < 0 ? rest : rest.slice(0, dashes);
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(HELP[command]);
    return;
  }
  refuseOptions(command, own);
  let parsed: ReturnType<typeof parseServerConfig>;
  try {
    parsed = parseServerConfig(own);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`kapibara ${command}: ${err.message}`);
    throw err;
  }
  const { config, positionals, out } = parsed;
  switch (command) {
    case 'start':
      return start(config);
    case 'exec':
      if (dashes < 0 || dashes === rest.length - 1) throw new UsageError('kapibara exec: no command given (kapibara exec [options] -- <command> [args…])');
      if (positionals.length) throw new UsageError(`kapibara exec: unexpected "${positionals[0]}" before -- (the command goes after --)`);
      process.exitCode = await exec(parsed, rest.slice(dashes + 1));
      return;
    case 'seed':
    case 'import': {
      const file = positionals[0];
      const doc = readJson(command, file);
      const store = await open(config);
      try {
        const progress = progressReporter(command === 'seed' ? 'seeding' : 'importing');
        const counts = await importState(store.db, stateTables(), doc, Date.now(), {
          replace: command === 'import',
          source: file,
          progress: (done, total) => progress.update(done, total),
        });
        process.stdout.write(`${command === 'seed' ? 'seeded' : 'imported'}: ${JSON.stringify(counts)}\n`);
      } catch (err) {
        if (err instanceof StateFormatError) throw new UsageError(err.message);
        throw err;
      } finally {
        await store.close();
      }
      return;
    }
    case 'export': {
      const store = await open(config);
      try {
        await writeStateFile(store.db, stateTables(), await storedPlatformTime(store.db), out);
      } finally {
        await store.close();
      }
      return;
    }
    case 'tls-cert': {
      const store = await open(config);
      try {
        process.stdout.write((await loadTlsMaterial(store.db)).cert);
      } finally {
        await store.close();
      }
      return;
    }
    case 'reset': {
      const store = await open(config);
      await resetState(store.db, stateTables());
      await store.close();
      process.stdout.write('all state deleted\n');
      return;
    }
  }
}

/** `kapibara exec`: a fresh Kapibara for the length of one command (as `firebase emulators:exec`). */
async function exec(parsed: ReturnType<typeof parseServerConfig>, commandLine: string[]): Promise<number> {
  const { config, importFile, exportOnExit, dataGiven } = parsed;
  const running = await startKapibara({
    databaseUrl: config.databaseUrl,
    lockWaitMs: config.lockWaitMs,
    sqlitePath: dataGiven ? (config.sqlitePath === ':memory:' ? ':memory:' : (mkdirSync(config.dataDir, { recursive: true }), config.sqlitePath)) : ':memory:',
    port: parsed.portGiven ? config.port : 0,
    state: importFile,
    demo: config.demo,
    operatorToken: config.operatorToken,
    publicUrl: config.publicUrl,
  });
  let exitCode = 1;
  try {
    await waitUntilHealthy(running.url);
    const env: NodeJS.ProcessEnv = { ...process.env, KAPIBARA_URL: running.url };
    if (running.demo) {
      env.KAPIBARA_APP_ID = String(running.demo.appId);
      env.KAPIBARA_REST_API_KEY = running.demo.restApiKey;
      env.KAPIBARA_JAVASCRIPT_KEY = running.demo.javascriptKey;
      env.KAPIBARA_NATIVE_KEY = running.demo.nativeKey;
      env.KAPIBARA_ADMIN_KEY = running.demo.adminKey;
    }
    if (config.operatorToken) env.KAPIBARA_OPERATOR_TOKEN = config.operatorToken;
    exitCode = await runCommand(commandLine, env);
    if (exportOnExit) await writeStateFile(running.app.platform.db, running.app.platform.tables, running.app.platform.clock.now(), exportOnExit);
  } finally {
    await running.stop();
  }
  return exitCode;
}

async function waitUntilHealthy(url: string): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      const res = await fetch(`${url}/_kapibara/health`);
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Kapibara did not become ready at ${url}/_kapibara/health: ${last}`);
}

/** Runs the command with the terminal's stdio; signals to Kapibara are passed on to it. */
function runCommand(commandLine: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(commandLine[0], commandLine.slice(1), { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const done = () => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
    };
    child.once('error', (err) => {
      done();
      reject(new Error(`kapibara exec: cannot run "${commandLine[0]}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'command not found' : err.message}`));
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
  });
}

/**
 * With KAPIBARA_DEBUG_START=1, when each phase of a start ended (ms since the process began)
 * and, on Linux, how many pages the process had touched by then: on a virtual machine where a
 * page fault is slow, memory first touched is much of what a start costs (docs/benchmarks.md).
 */
const startPhase =
  process.env.KAPIBARA_DEBUG_START === '1' ? (phase: string) => process.stderr.write(`kapibara: ${phase} at ${performance.now().toFixed(0)} ms${pageFaults()}\n`) : () => {};

/** ", N page faults" from /proc/self/stat (Linux), or nothing. */
function pageFaults(): string {
  try {
    return `, ${readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[7]} page faults`;
  } catch {
    return '';
  }
}

async function start(config: ServerConfig): Promise<void> {
  startPhase('code loaded');
  let operatorToken = config.operatorToken;
  if (!operatorToken && needsOperatorToken(config)) operatorToken = newOperatorToken();
  const store = await open(config);
  startPhase('store open');
  const clock = new Clock();
  const app = await buildApp({ store, clock, publicUrl: config.publicUrl, operatorToken, ...config.security, logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
  // Everything a request may need is in place before the port opens: whoever polls a new
  // server until it answers may use the demo app, or stop the server, at once.
  startPhase('app built');
  const seeded = config.demo ? await store.exclusively((own) => seedDemo(own, clock.now())) : false;
  const demo = await store.db.selectFrom('apps').selectAll().where('id', '=', DEMO_APP_ID).executeTakeFirst();
  startPhase('demo seeded');
  let tls: Awaited<ReturnType<typeof listenTls>> | undefined;
  const stop = async () => {
    await tls?.close();
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const address = await app.listen({ port: config.port, host: config.host });
  startPhase('listening');
  tls = config.tlsPort === undefined ? undefined : await listenTls(app, { port: config.tlsPort, host: config.host });
  const base = config.publicUrl ?? address.replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
  const lines = [
    `Kapibara listening on ${address} (${store.dialect === 'sqlite' ? `SQLite: ${config.sqlitePath}` : 'PostgreSQL'})`,
    seeded ? 'Created the demo app and demo people.' : '',
    demo
      ? [
          `Demo app "${demo.name}" (app id ${demo.id})`,
          `  REST API key:   ${demo.rest_api_key}`,
          `  JavaScript key: ${demo.javascript_key}`,
          `  Native key:     ${demo.native_key}`,
          `  Admin key:      ${demo.admin_key}`,
          `  Demo people sign in with their email and the password "kapibara".`,
          `Login URL:      ${base}/oauth/authorize?client_id=${demo.rest_api_key}&redirect_uri=${encodeURIComponent(JSON.parse(demo.redirect_uris)[0] ?? '')}&response_type=code`,
        ].join('\n')
      : '',
    isLoopback(config.host)
      ? ''
      : `Host names:     loopback, IP addresses, *.kakao.com${config.publicUrl ? ', the public URL host' : ''}${config.security.allowedHosts?.length ? `, ${config.security.allowedHosts.join(', ')}` : ''} (--allowed-host adds more)`,
    `Console:        ${base}/_kapibara/console`,
    `Control plane:  ${base}/_kapibara/v1`,
    tls
      ? `HTTPS:          port ${tls.port} for ${TLS_HOST_NAMES.join(', ')} (trust the certificate: kapibara tls-cert > kapibara.pem)`
      : '',
    operatorToken ? `Operator token: ${operatorToken}` : '',
  ];
  process.stdout.write(lines.filter(Boolean).join('\n') + '\n');
}
