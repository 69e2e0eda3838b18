import type { Server } from 'node:https';
import { createRequire } from 'node:module';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { limitListener, listenerOptions } from './security.js';
import type { ServedCertificate } from './stored-settings.js';

/** Loads what only HTTPS needs when it is first needed (the start bundle leaves selfsigned outside). */
const requireHere = createRequire(import.meta.url);

/**
 * TLS for clients that insist on https and the real Kakao host names (hard-coded server
 * libraries, the JavaScript SDK): a self-signed certificate for the Kakao hosts and
 * loopback, created once and kept in `settings` so restarts (and every instance sharing
 * PostgreSQL) serve the same certificate that developers trusted.
 */

/**
 * Every Kakao host whose paths Kapibara serves (one origin serves them all, so a client
 * host-mapped to any of them reaches it), and loopback: the certificate's names. The docs
 * that list them are checked against this list (test/docs.test.ts).
 */
export const TLS_HOST_NAMES = [
  'kauth.kakao.com', // OAuth, OIDC, login and consent pages
  'kapi.kakao.com', // REST APIs
  'dapi.kakao.com', // Local, Search
  'sharer.kakao.com', // the web sharer
  'story.kakao.com', // Kakao Story's share page (SDK v1)
  'pf.kakao.com', // channel pages: /<public id>/friend, /<public id>/chat
  'apps.kakao.com', // follow channel: /talk/channel/follow
  'accounts.kakao.com', // the Kakao Account sign-in page
  'api-status.kakao.com', // /api/health/current and /history
  'localhost',
] as const;
export const TLS_IPS = ['127.0.0.1', '::1'] as const;
/** The organization of the certificates Kapibara makes (one brought by an import is kept as it is). */
const ORGANIZATION = 'Kapibara';
const SETTING_KEY = 'tls_certificate';
/** Renewed this long before it expires. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

export interface TlsMaterial {
  /** PEM certificate: what a client trusts (`ca`, NODE_EXTRA_CA_CERTS, a browser's store). */
  cert: string;
  /** PEM private key. */
  key: string;
}

/** The stored certificate, or a new one when none is stored (or it is about to expire). */
export async function loadTlsMaterial(db: Kysely<DB>, now = Date.now()): Promise<TlsMaterial> {
  const stored = await readStored(db);
  if (stored && !needsRenewal(stored.material.cert, now)) return stored.material;
  const material = await createCertificate(new Date(now));
  const value = JSON.stringify(material);
  // Another instance may store one first (or renew it first): everyone serves the one stored.
  if (stored) await db.updateTable('settings').set({ value }).where('key', '=', SETTING_KEY).where('value', '=', stored.value).execute();
  else await db.insertInto('settings').values({ key: SETTING_KEY, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
  return (await readStored(db))!.material;
}

/**
 * About to expire, or made by an earlier Kapibara before a host name was added to the list
 * (clients then trust the new one, `kapibara tls-cert`). A certificate an operator brought
 * (by importing a state document) is not Kapibara's to change: its names are theirs.
 */
function needsRenewal(cert: string, now: number): boolean {
  const x509 = new X509Certificate(cert);
  if (Date.parse(x509.validTo) - RENEW_BEFORE_MS <= now) return true;
  const madeHere = x509.issuer === x509.subject && x509.subject.split('\n').includes(`O=${ORGANIZATION}`);
  return madeHere && !TLS_HOST_NAMES.every((name) => x509.checkHost(name) !== undefined);
}

/** Why a stored `tls_certificate` setting cannot be served (undefined: it can). */
export function tlsMaterialProblem(value: string): string | undefined {
  let material: Partial<TlsMaterial>;
  try {
    material = JSON.parse(value) as Partial<TlsMaterial>;
  } catch {
    return 'tls_certificate is not JSON ({ "cert": PEM, "key": PEM })';
  }
  if (typeof material !== 'object' || material === null || typeof material.cert !== 'string' || typeof material.key !== 'string') {
    return 'tls_certificate must be { "cert": PEM, "key": PEM }';
  }
  try {
    const cert = new X509Certificate(material.cert);
    if (!cert.checkPrivateKey(createPrivateKey(material.key))) return 'tls_certificate: the key is not the certificate\'s';
  } catch (err) {
    return `tls_certificate is not a usable certificate and key: ${(err as Error).message}`;
  }
  return undefined;
}

async function readStored(db: Kysely<DB>): Promise<{ value: string; material: TlsMaterial } | undefined> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', SETTING_KEY).executeTakeFirst();
  return row ? { value: row.value, material: JSON.parse(row.value) as TlsMaterial } : undefined;
}

async function createCertificate(notBefore: Date): Promise<TlsMaterial> {
  const notAfter = new Date(notBefore.getTime() + 825 * 24 * 3600 * 1000);
  // selfsigned (with its X.509 libraries, a fifth of all the code Kapibara ships) is loaded
  // only when a certificate is made, and required: the start bundle leaves it outside.
  const { generate } = requireHere('selfsigned') as typeof import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'kauth.kakao.com' }, { name: 'organizationName', value: ORGANIZATION }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(notBefore.getTime() - 60_000),
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...TLS_HOST_NAMES.map((value) => ({ type: 2 as const, value })), ...TLS_IPS.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

export interface TlsListener {
  server: Server;
  port: number;
  /** The PEM certificate served now (an import may change it, core/stored-settings.ts). */
  readonly cert: string;
  close(): Promise<void>;
}

/**
 * Serves a built app over HTTPS too (same routes, same store), on `port` (0: any free port).
 * When the stored certificate changes (a state import here, or on another instance sharing
 * the store), new connections get the new one at once: no restart.
 */
export async function listenTls(app: FastifyInstance, options: { port: number; host?: string }): Promise<TlsListener> {
  await app.ready();
  const { db, servedCertificates } = app.platform;
  let material = await loadTlsMaterial(db);
  // node:https (with node:tls) is loaded only by a server that serves HTTPS.
  const { createServer } = requireHere('node:https') as typeof import('node:https');
  const server = createServer({ cert: material.cert, key: material.key, ...listenerOptions(app) }, (req, res) => app.routing(req, res));
  limitListener(app, server);
  const served: ServedCertificate = {
    get cert() {
      return material.cert;
    },
    async reload() {
      const stored = await loadTlsMaterial(db);
      if (stored.cert === material.cert) return;
      server.setSecureContext({ cert: stored.cert, key: stored.key });
      material = stored;
    },
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  servedCertificates.add(served);
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    get cert() {
      return material.cert;
    },
    close: () =>
      new Promise<void>((resolve) => {
        servedCertificates.delete(served);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
