import { it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { forEachStore } from './helpers/harness.js';
import { buildApp } from '../src/app.js';
import { createRequire } from 'node:module';
import { listenTls, loadTlsMaterial, TLS_HOST_NAMES } from '../src/core/tls.js';

/** A certificate as a Kapibara without pf/apps/accounts made it, or as an operator made one. */
async function certificateFor(names: string[], organization: string): Promise<{ cert: string; key: string }> {
  const { generate } = createRequire(import.meta.url)('selfsigned') as typeof import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: names[0] }, { name: 'organizationName', value: organization }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [{ name: 'subjectAltName', altNames: names.map((value) => ({ type: 2 as const, value })) }],
  });
  return { cert: pems.cert, key: pems.private };
}

/** The TLS certificate for host-mapped clients: made once, kept in the store, served by --tls-port. */
forEachStore('TLS for Kakao host names', (h) => {
  it('creates one certificate for the Kakao hosts and loopback, and keeps it in the store', async () => {
    const first = await loadTlsMaterial(h.store.db);
    const again = await loadTlsMaterial(h.store.db);
    assert.equal(again.cert, first.cert);
    const x509 = new X509Certificate(first.cert);
    for (const name of TLS_HOST_NAMES) assert.ok(x509.checkHost(name), `certificate covers ${name}`);
    assert.ok(x509.checkIP('127.0.0.1'));
    assert.equal(x509.checkHost('evil.example'), undefined);
    assert.ok(x509.verify(x509.publicKey), 'self-signed');
  });

  it('a restarted server (a new app on the same store) serves the same certificate over HTTPS', async () => {
    const before = await loadTlsMaterial(h.store.db);
    const restarted = await buildApp({ store: h.store, clock: h.clock });
    const tls = await listenTls(restarted, { port: 0 });
    try {
      assert.equal(tls.cert, before.cert);
      const { status, body, peer } = await new Promise<{ status: number; body: string; peer: string }>((resolve, reject) => {
        const req = https.request(
          { host: '127.0.0.1', port: tls.port, path: '/.well-known/openid-configuration', servername: 'kauth.kakao.com', headers: { host: 'kauth.kakao.com' }, ca: before.cert },
          (res) => {
            const peer = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode!, body: text, peer }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
      assert.equal(JSON.parse(body).issuer, 'https://kauth.kakao.com');
      assert.equal(peer, new X509Certificate(before.cert).fingerprint256);
    } finally {
      await tls.close();
      await restarted.close();
    }
  });

  it('keeps the certificate (and the signing key) through a control-plane reset', async () => {
    const before = await loadTlsMaterial(h.store.db);
    const jwks = (await h.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    await h.control('POST', '/reset');
    assert.equal((await loadTlsMaterial(h.store.db)).cert, before.cert);
    assert.deepEqual((await h.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json(), jwks);
  });

  it('names every Kakao host whose pages Kapibara serves, for the official SDKs over host mapping', async () => {
    const x509 = new X509Certificate((await loadTlsMaterial(h.store.db)).cert);
    // The official SDK opens https://pf.kakao.com/<id>/friend and /chat (Kakao.Channel),
    // apps.kakao.com/talk/channel/follow, and accounts.kakao.com/login from Kakao's pages.
    for (const name of ['kauth', 'kapi', 'dapi', 'sharer', 'story', 'pf', 'apps', 'accounts', 'api-status']) {
      assert.ok(TLS_HOST_NAMES.includes(`${name}.kakao.com` as (typeof TLS_HOST_NAMES)[number]), `${name}.kakao.com in TLS_HOST_NAMES`);
      assert.equal(x509.checkHost(`${name}.kakao.com`), `${name}.kakao.com`);
    }
    assert.ok(x509.checkIP('127.0.0.1') && x509.checkIP('::1'));
  });

  it('a stored certificate Kapibara made before a host name was added is made again; one the operator brought is kept', async () => {
    const settings = (value: string) =>
      h.store.db.insertInto('settings').values({ key: 'tls_certificate', value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
    const older = await certificateFor(['kauth.kakao.com', 'kapi.kakao.com', 'dapi.kakao.com', 'sharer.kakao.com', 'story.kakao.com', 'localhost'], 'Kapibara');
    await settings(JSON.stringify(older));
    const upgraded = await loadTlsMaterial(h.store.db);
    assert.notEqual(upgraded.cert, older.cert);
    for (const name of TLS_HOST_NAMES) assert.ok(new X509Certificate(upgraded.cert).checkHost(name), `made again with ${name}`);
    assert.equal((await loadTlsMaterial(h.store.db)).cert, upgraded.cert, 'stored: made once');

    const own = await certificateFor(['kapi.kakao.com', 'kauth.kakao.com'], 'Example Corp');
    await settings(JSON.stringify(own));
    assert.equal((await loadTlsMaterial(h.store.db)).cert, own.cert);
  });

  it('replaces a certificate that is about to expire', async () => {
    const first = await loadTlsMaterial(h.store.db);
    const validTo = Date.parse(new X509Certificate(first.cert).validTo);
    const renewed = await loadTlsMaterial(h.store.db, validTo - 24 * 3600 * 1000);
    assert.notEqual(renewed.cert, first.cert);
    assert.equal((await loadTlsMaterial(h.store.db, validTo - 24 * 3600 * 1000)).cert, renewed.cert);
  });
});
