import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseServerConfig, isLoopback, type ServerConfig } from './config.js';
import type { Store } from './db/index.js';
import { openStore, stateTables } from './kapibara.js';
import { buildApp } from './app.js';
import { Clock } from './core/clock.js';
import { exportState, importState, resetState, type StateDocument } from './store/state.js';
import { seedDemo, DEMO_APP_ID } from './demo.js';
import { listenTls, loadTlsMaterial, TLS_HOST_NAMES } from './core/tls.js';
import { JSON_TOO_DEEP, jsonTooDeep } from './core/json.js';

const USAGE = `usage: kapibara <command> [options]

commands:
  start                 run the server (default port 9876, data in ./data)
  seed <file>           add the state in <file> (JSON, docs/state-format.md) to the store
  import <file>         replace all state with <file>
  export [--out file]   print (or write) all state as JSON
  reset                 delete all state
  tls-cert              print the PEM certificate --tls-port serves (to trust it)

options:
  --port N              port to listen on (env PORT)
  --host H              address to bind (default 127.0.0.1; env HOST)
  --data DIR            data folder for the SQLite store (default ./data; env KAPIBARA_DATA)
  --database-url URL    use PostgreSQL instead of SQLite (env DATABASE_URL)
  --public-url URL      origin used in absolute URLs (env KAPIBARA_PUBLIC_URL)
  --operator-token T    protects the control plane (env KAPIBARA_OPERATOR_TOKEN);
                        generated when binding to a non-loopback address
  --tls-port N          also serve HTTPS on N with a self-signed certificate for
                        ${TLS_HOST_NAMES.join(', ')} and 127.0.0.1
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
`;

async function open(config: ServerConfig): Promise<Store> {
  if (!config.databaseUrl && config.sqlitePath !== ':memory:') mkdirSync(config.dataDir, { recursive: true });
  return openStore({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath });
}

function readJson(file: string | undefined): StateDocument {
  if (!file) throw new Error('a JSON file is required');
  try {
    const text = readFileSync(file, 'utf8');
    if (jsonTooDeep(text)) throw new Error(JSON_TOO_DEEP);
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  const { config, positionals, out } = parseServerConfig(rest);
  switch (command) {
    case 'start':
      return start(config);
    case 'seed':
    case 'import': {
      const doc = readJson(positionals[0]);
      const store = await open(config);
      try {
        const counts = await importState(store.db, stateTables(), doc, Date.now(), { replace: command === 'import' });
        process.stdout.write(`${command === 'seed' ? 'seeded' : 'imported'}: ${JSON.stringify(counts)}\n`);
      } finally {
        await store.close();
      }
      return;
    }
    case 'export': {
      const store = await open(config);
      try {
        const text = JSON.stringify(await exportState(store.db, stateTables()), null, 2) + '\n';
        if (out) writeFileSync(out, text);
        else process.stdout.write(text);
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
    default:
      throw new Error(`unknown command "${command}"\n\n${USAGE}`);
  }
}

async function start(config: ServerConfig): Promise<void> {
  let operatorToken = config.operatorToken;
  if (!operatorToken && !isLoopback(config.host)) operatorToken = randomBytes(18).toString('base64url');
  const store = await open(config);
  const clock = new Clock();
  const app = await buildApp({ store, clock, publicUrl: config.publicUrl, operatorToken, ...config.security, logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
  const address = await app.listen({ port: config.port, host: config.host });
  const tls = config.tlsPort === undefined ? undefined : await listenTls(app, { port: config.tlsPort, host: config.host });
  const base = config.publicUrl ?? address.replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
  const seeded = config.demo ? await store.exclusively(() => seedDemo(store.db, clock.now())) : false;
  const demo = await store.db.selectFrom('apps').selectAll().where('id', '=', DEMO_APP_ID).executeTakeFirst();
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

  const stop = async () => {
    await tls?.close();
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
