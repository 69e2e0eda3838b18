import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type SecurityOptions, operatorTokenProblem } from './core/security.js';

export const DEFAULT_PORT = 9876;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = 'data';

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  /** SQLite file, or `:memory:`. */
  sqlitePath: string;
  databaseUrl?: string;
  /** How long a call waits for a lock another connection to the store holds (db/index.ts LOCK_WAIT_MS). */
  lockWaitMs?: number;
  publicUrl?: string;
  operatorToken?: string;
  /** Also serve HTTPS on this port, with the certificate for the Kakao host names (src/core/tls.ts). */
  tlsPort?: number;
  demo: boolean;
  /** Served host names, trusted proxies, timeouts and connection limits (docs/security.md). */
  security: SecurityOptions;
}

/** Flags win over environment variables, which win over defaults. */
export function parseServerConfig(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): { config: ServerConfig; positionals: string[]; out?: string; importFile?: string; exportOnExit?: string; dataGiven: boolean; portGiven: boolean } {
  const { values, positionals } = parseFlags(() => parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      data: { type: 'string' },
      'database-url': { type: 'string' },
      'lock-wait': { type: 'string' },
      'public-url': { type: 'string' },
      'operator-token': { type: 'string' },
      'tls-port': { type: 'string' },
      'no-demo': { type: 'boolean' },
      'allowed-host': { type: 'string', multiple: true },
      'trust-proxy': { type: 'string', multiple: true },
      'request-timeout': { type: 'string' },
      'headers-timeout': { type: 'string' },
      'max-connections-per-client': { type: 'string' },
      out: { type: 'string' },
      import: { type: 'string' },
      'export-on-exit': { type: 'string' },
    },
  }));
  const portText = values.port ?? env.PORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`invalid ${values.port !== undefined ? '--port' : 'PORT'} "${portText}": expected a port number from 0 to 65535`);
  const tlsPortText = values['tls-port'] ?? env.KAPIBARA_TLS_PORT;
  const tlsPort = tlsPortText === undefined || tlsPortText === '' ? undefined : Number(tlsPortText);
  if (tlsPort !== undefined && (!/^\d+$/.test(tlsPortText!) || tlsPort > 65535)) {
    throw new UsageError(`invalid ${values['tls-port'] !== undefined ? '--tls-port' : 'KAPIBARA_TLS_PORT'} "${tlsPortText}": expected a port number from 0 to 65535`);
  }
  const dataText = values.data ?? env.KAPIBARA_DATA;
  const dataDir = resolve(dataText ?? DEFAULT_DATA_DIR);
  if (dataText !== undefined && dataText !== ':memory:' && statSync(dataDir, { throwIfNoEntry: false })?.isDirectory() === false) {
    throw new UsageError(`invalid ${values.data !== undefined ? '--data' : 'KAPIBARA_DATA'} "${dataText}": it is a file; --data names a folder (or :memory:)`);
  }
  const databaseUrl = values['database-url'] ?? env.DATABASE_URL ?? undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/./i.test(databaseUrl)) {
    throw new UsageError(
      `invalid ${values['database-url'] !== undefined ? '--database-url' : 'DATABASE_URL'} "${redactUrl(databaseUrl)}": only PostgreSQL is supported (postgres://user:password@host:5432/db); without it the store is SQLite in --data`,
    );
  }
  const publicUrl = values['public-url'] ?? env.KAPIBARA_PUBLIC_URL ?? undefined;
  if (publicUrl !== undefined && !isHttpOrigin(publicUrl)) {
    throw new UsageError(`invalid ${values['public-url'] !== undefined ? '--public-url' : 'KAPIBARA_PUBLIC_URL'} "${publicUrl}": expected an http(s) URL such as https://kapibara.example.com`);
  }
  const operatorToken = values['operator-token'] ?? env.KAPIBARA_OPERATOR_TOKEN ?? undefined;
  const tokenProblem = operatorToken ? operatorTokenProblem(operatorToken) : undefined;
  // The token itself is a secret: the message names where it came from, not what it is.
  if (tokenProblem) throw new UsageError(`invalid ${values['operator-token'] !== undefined ? '--operator-token' : 'KAPIBARA_OPERATOR_TOKEN'}: ${tokenProblem}`);
  return {
    config: {
      port,
      host: values.host ?? env.HOST ?? DEFAULT_HOST,
      dataDir,
      sqlitePath: dataDir === resolve(':memory:') ? ':memory:' : join(dataDir, 'kapibara.sqlite'),
      databaseUrl,
      lockWaitMs: seconds(values['lock-wait'] !== undefined ? '--lock-wait' : 'KAPIBARA_LOCK_WAIT', values['lock-wait'] ?? env.KAPIBARA_LOCK_WAIT),
      publicUrl,
      operatorToken,
      tlsPort,
      demo: !values['no-demo'],
      security: {
        allowedHosts: list(values['allowed-host'], env.KAPIBARA_ALLOWED_HOSTS),
        trustProxy: list(values['trust-proxy'], env.KAPIBARA_TRUST_PROXY),
        limits: {
          requestTimeoutMs: seconds(values['request-timeout'] !== undefined ? '--request-timeout' : 'KAPIBARA_REQUEST_TIMEOUT', values['request-timeout'] ?? env.KAPIBARA_REQUEST_TIMEOUT),
          headersTimeoutMs: seconds(values['headers-timeout'] !== undefined ? '--headers-timeout' : 'KAPIBARA_HEADERS_TIMEOUT', values['headers-timeout'] ?? env.KAPIBARA_HEADERS_TIMEOUT),
          maxConnectionsPerClient: count(values['max-connections-per-client'] !== undefined ? '--max-connections-per-client' : 'KAPIBARA_MAX_CONNECTIONS_PER_CLIENT', values['max-connections-per-client'] ?? env.KAPIBARA_MAX_CONNECTIONS_PER_CLIENT),
        },
      },
    },
    positionals,
    out: values.out,
    importFile: values.import,
    exportOnExit: values['export-on-exit'],
    dataGiven: dataText !== undefined,
    portGiven: values.port !== undefined || (env.PORT ?? '') !== '',
  };
}

/** A mistake in the command line: the message is one line naming the flag. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** Runs parseArgs, with its errors reworded as one line naming the flag. */
function parseFlags<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const message = (err as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) throw new UsageError(`unknown option ${unknown[1]} (--help lists the options)`);
    const missing = /Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(message);
    if (missing) throw new UsageError(`${missing[1]} needs a value`);
    const noValue = /Option '(--[\w-]+)' does not take an argument/.exec(message);
    if (noValue) throw new UsageError(`${noValue[1]} takes no value`);
    throw new UsageError(message.split('\n')[0]);
  }
}

function isHttpOrigin(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
}

/** A database URL as it may be printed: without its password. */
function redactUrl(text: string): string {
  return text.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/** Repeated flags and comma-separated values (flags win over the environment). */
function list(flags: string[] | undefined, envValue: string | undefined): string[] {
  const values = flags?.length ? flags : envValue ? [envValue] : [];
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

function seconds(what: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`invalid ${what} "${text}": expected seconds, more than 0`);
  return Math.round(n * 1000);
}

function count(what: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`invalid ${what} "${text}": expected a whole number, 0 for no limit`);
  return n;
}

/**
 * Whether the control plane needs an operator token (one is generated when none is given):
 * bound to a non-loopback address, or reached through a proxy Kapibara was told of
 * (`--trust-proxy`) or at a public URL on another host: a reverse proxy on the same host
 * forwards the network to a loopback Kapibara.
 */
export function needsOperatorToken(config: ServerConfig): boolean {
  if (!isLoopback(config.host) || (config.security.trustProxy ?? []).length > 0) return true;
  return config.publicUrl !== undefined && !isLoopback(new URL(config.publicUrl).hostname.replace(/^\[|\]$/g, ''));
}

/** The token a server that needs one makes up when none is given (base64url, always cookie-safe). */
export function newOperatorToken(): string {
  return randomBytes(18).toString('base64url');
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
