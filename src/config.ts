import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import type { SecurityOptions } from './core/security.js';

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
): { config: ServerConfig; positionals: string[]; out?: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      data: { type: 'string' },
      'database-url': { type: 'string' },
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
    },
  });
  const portText = values.port ?? env.PORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port: ${portText}`);
  const tlsPortText = values['tls-port'] ?? env.KAPIBARA_TLS_PORT;
  const tlsPort = tlsPortText === undefined || tlsPortText === '' ? undefined : Number(tlsPortText);
  if (tlsPort !== undefined && (!Number.isInteger(tlsPort) || tlsPort < 0 || tlsPort > 65535)) throw new Error(`invalid TLS port: ${tlsPortText}`);
  const dataDir = resolve(values.data ?? env.KAPIBARA_DATA ?? DEFAULT_DATA_DIR);
  return {
    config: {
      port,
      host: values.host ?? env.HOST ?? DEFAULT_HOST,
      dataDir,
      sqlitePath: dataDir === resolve(':memory:') ? ':memory:' : join(dataDir, 'kapibara.sqlite'),
      databaseUrl: values['database-url'] ?? env.DATABASE_URL ?? undefined,
      publicUrl: values['public-url'] ?? env.KAPIBARA_PUBLIC_URL ?? undefined,
      operatorToken: values['operator-token'] ?? env.KAPIBARA_OPERATOR_TOKEN ?? undefined,
      tlsPort,
      demo: !values['no-demo'],
      security: {
        allowedHosts: list(values['allowed-host'], env.KAPIBARA_ALLOWED_HOSTS),
        trustProxy: list(values['trust-proxy'], env.KAPIBARA_TRUST_PROXY),
        limits: {
          requestTimeoutMs: seconds('request timeout', values['request-timeout'] ?? env.KAPIBARA_REQUEST_TIMEOUT),
          headersTimeoutMs: seconds('headers timeout', values['headers-timeout'] ?? env.KAPIBARA_HEADERS_TIMEOUT),
          maxConnectionsPerClient: count('max connections per client', values['max-connections-per-client'] ?? env.KAPIBARA_MAX_CONNECTIONS_PER_CLIENT),
        },
      },
    },
    positionals,
    out: values.out,
  };
}

/** Repeated flags and comma-separated values (flags win over the environment). */
function list(flags: string[] | undefined, envValue: string | undefined): string[] {
  const values = flags?.length ? flags : envValue ? [envValue] : [];
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

function seconds(what: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`invalid ${what}: ${text} (seconds, more than 0)`);
  return Math.round(n * 1000);
}

function count(what: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid ${what}: ${text} (a whole number, 0 for no limit)`);
  return n;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
