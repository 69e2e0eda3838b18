import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { forEachStore } from './helpers/harness.js';
import { buildApp } from '../src/app.js';
import { listenTls, loadTlsMaterial, TLS_HOST_NAMES } from '../src/core/tls.js';
import { certificateFor, getOverTls } from './helpers/tls.js';

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
      const { status, body, peer } = await getOverTls(tls.port, 'kauth.kakao.com', '/.well-known/openid-configuration', before.cert);
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

  it('after importing another Kapibara\'s export, the TLS port serves its certificate at once', async () => {
    const tls = await listenTls(h.app, { port: 0 });
    try {
      const before = tls.cert;
      const other = await certificateFor(TLS_HOST_NAMES, 'Kapibara');
      const exported = (await h.inject({ method: 'GET', url: '/_kapibara/v1/state' })).json();
      exported.settings = [...exported.settings.filter((s: { key: string }) => s.key !== 'tls_certificate'), { key: 'tls_certificate', value: JSON.stringify(other) }];
      const imported = await h.inject({ method: 'PUT', url: '/_kapibara/v1/state', payload: exported });
      assert.equal(imported.statusCode, 200, imported.body);
      const answer = await getOverTls(tls.port, 'kapi.kakao.com', '/_kapibara/health', other.cert);
      assert.equal(answer.status, 200);
      assert.equal(answer.peer, new X509Certificate(other.cert).fingerprint256);
      assert.equal(tls.cert, other.cert);
      await assert.rejects(getOverTls(tls.port, 'kapi.kakao.com', '/_kapibara/health', before), 'the old certificate is no longer served');
    } finally {
      await tls.close();
    }
  });

  it('replaces a certificate that is about to expire', async () => {
    const first = await loadTlsMaterial(h.store.db);
    const validTo = Date.parse(new X509Certificate(first.cert).validTo);
    const renewed = await loadTlsMaterial(h.store.db, validTo - 24 * 3600 * 1000);
    assert.notEqual(renewed.cert, first.cert);
    assert.equal((await loadTlsMaterial(h.store.db, validTo - 24 * 3600 * 1000)).cert, renewed.cert);
  });
});
