import https from 'node:https';
import { createRequire } from 'node:module';
import type { TLSSocket } from 'node:tls';

/** A self-signed certificate for `names` (the first is the common name), issued to `organization`. */
export async function certificateFor(names: readonly string[], organization: string): Promise<{ cert: string; key: string }> {
  const { generate } = createRequire(import.meta.url)('selfsigned') as typeof import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: names[0] }, { name: 'organizationName', value: organization }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [{ name: 'subjectAltName', altNames: names.map((value) => ({ type: 2 as const, value })) }],
  });
  return { cert: pems.cert, key: pems.private };
}

/**
 * GET `path` from a TLS listener on loopback as a host-mapped client does: it asks for
 * `host` and trusts only `ca`. Resolves the status, the body and the served certificate's
 * SHA-256 fingerprint; rejects when the certificate is not trusted for `host`.
 */
export function getOverTls(port: number, host: string, path: string, ca: string): Promise<{ status: number; body: string; peer: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, servername: host, headers: { host }, ca, agent: false }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text, peer }));
    });
    req.on('error', reject);
    req.end();
  });
}
