import { after, before, it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { forEachStore, type Harness, type TestApp, type TestAccount } from '../helpers/harness.js';
import { launchChromium } from '../helpers/browser.js';
import { listenTls } from '../../src/core/tls.js';

/**
 * Kakao Login in a real browser (Debian's Chromium): a tiny web app redirects to
 * /oauth/authorize, a person picks themselves on the login page and answers the consent
 * page, and the web app's callback exchanges the code on its server side.
 */

interface Callback {
  query: Record<string, string>;
  token?: Record<string, any>;
}

/** The "web app": /login starts Kakao Login, /callback receives the result and exchanges the code. */
class WebApp {
  server!: http.Server;
  origin = '';
  callbacks: Callback[] = [];
  app?: TestApp;

  /** Where the browser is sent to log in (the real host name when host-mapped). */
  authorizeOrigin?: string;

  constructor(private readonly kapibara: () => string) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get callbackUrl(): string {
    return `${this.origin}/callback`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    if (url.pathname === '/login') {
      const params = new URLSearchParams({ client_id: this.app!.rest_api_key, redirect_uri: this.callbackUrl, response_type: 'code', state: `st-${this.callbacks.length}` });
      const scope = url.searchParams.get('scope');
      if (scope) params.set('scope', scope);
      res.writeHead(302, { location: `${this.authorizeOrigin ?? this.kapibara()}/oauth/authorize?${params}` }).end();
      return;
    }
    if (url.pathname === '/callback') {
      const callback: Callback = { query: Object.fromEntries(url.searchParams) };
      this.callbacks.push(callback);
      if (callback.query.code) {
        const tokenRes = await fetch(`${this.kapibara()}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
          body: new URLSearchParams({ grant_type: 'authorization_code', client_id: this.app!.rest_api_key, redirect_uri: this.callbackUrl, code: callback.query.code }),
        });
        callback.token = (await tokenRes.json()) as Record<string, any>;
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<h1 id="result">Logged in</h1><p id="scope">${callback.token.scope ?? ''}</p>`);
      } else {
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<h1 id="result">Login failed</h1><p id="error">${callback.query.error ?? ''}</p>`);
      }
      return;
    }
    res.writeHead(404).end();
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

forEachStore('Kakao Login in Chromium', (h: Harness) => {
  let browser: Browser;
  let kapibara = '';
  const web = new WebApp(() => kapibara);

  before(async () => {
    browser = await launchChromium();
    kapibara = await h.listen();
    await web.start();
  });
  after(async () => {
    await browser?.close();
    await web.stop();
  });

  async function setup(): Promise<{ app: TestApp; person: TestAccount; page: Page }> {
    web.callbacks = [];
    web.authorizeOrigin = undefined;
    web.app = await h.createApp({
      name: 'Browser Shop',
      redirect_uris: [web.callbackUrl],
      consent_items: { profile_nickname: 'required', account_email: 'optional', talk_message: 'optional' },
    });
    const person = await h.createAccount({ nickname: 'Muzi', email: 'muzi@example.com' });
    const context = await browser.newContext();
    return { app: web.app, person, page: await context.newPage() };
  }

  async function consentItems(page: Page): Promise<Record<string, { checked: boolean; disabled: boolean }>> {
    const out: Record<string, { checked: boolean; disabled: boolean }> = {};
    for (const box of await page.locator('form#consent input[type=checkbox]').all()) {
      out[(await box.getAttribute('data-item'))!] = { checked: await box.isChecked(), disabled: await box.isDisabled() };
    }
    return out;
  }

  it('logs in by picking a person, agrees, and the web app exchanges the code', async () => {
    const { app, person, page } = await setup();
    await page.goto(`${web.origin}/login`);
    assert.match(await page.title(), /Kakao Login/);
    await page.click(`button[data-account-id="${person.id}"]`);
    await page.waitForSelector('form#consent');
    assert.deepEqual(await consentItems(page), {
      profile_nickname: { checked: true, disabled: true },
      account_email: { checked: false, disabled: false },
      talk_message: { checked: false, disabled: false },
    });
    await page.check('input[data-item="account_email"]');
    await page.click('button[value="agree"]');
    await page.waitForSelector('#result');
    assert.equal(await page.textContent('#result'), 'Logged in');

    assert.equal(web.callbacks.length, 1);
    const [cb] = web.callbacks;
    assert.equal(cb.query.state, 'st-0');
    assert.ok(cb.query.code);
    assert.equal(cb.token?.token_type, 'bearer');
    assert.deepEqual(String(cb.token?.scope).split(' ').sort(), ['account_email', 'profile_nickname']);
    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    assert.deepEqual(link.scopes.sort(), ['account_email', 'profile_nickname']);
    await page.context().close();
  });

  it('declining consent brings the person back to the app with access_denied', async () => {
    const { page } = await setup();
    const person = await h.createAccount({ nickname: 'Con', email: 'con@example.com' });
    await page.goto(`${web.origin}/login`);
    await page.click(`button[data-account-id="${person.id}"]`);
    await page.waitForSelector('form#consent');
    await page.click('button[value="cancel"]');
    await page.waitForSelector('#result');
    assert.equal(await page.textContent('#error'), 'access_denied');
    assert.equal(web.callbacks.length, 1);
    assert.equal(web.callbacks[0].query.error, 'access_denied');
    assert.equal(web.callbacks[0].query.state, 'st-0');
    assert.equal(web.callbacks[0].query.code, undefined);
    await page.context().close();
  });

  it('incremental consent shows only the extra scope, without logging in again', async () => {
    const { app, person, page } = await setup();
    await page.goto(`${web.origin}/login`);
    await page.click(`button[data-account-id="${person.id}"]`);
    await page.click('button[value="agree"]');
    await page.waitForSelector('#result');

    await page.goto(`${web.origin}/login?scope=talk_message`);
    await page.waitForSelector('form#consent');
    assert.deepEqual(await consentItems(page), { talk_message: { checked: false, disabled: false } });
    await page.check('input[data-item="talk_message"]');
    await page.click('button[value="agree"]');
    await page.waitForSelector('#result');
    assert.deepEqual(String(web.callbacks[1].token?.scope).split(' ').sort(), ['profile_nickname', 'talk_message']);
    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    assert.deepEqual(link.scopes.sort(), ['profile_nickname', 'talk_message']);

    // Signed in and nothing new: straight back to the app.
    await page.goto(`${web.origin}/login`);
    await page.waitForSelector('#result');
    assert.equal(await page.textContent('#result'), 'Logged in');
    assert.equal(web.callbacks.length, 3);
    await page.context().close();
  });

  it('a wrong password shows an error on the login page; email login then works', async () => {
    const { person, page } = await setup();
    await page.goto(`${web.origin}/login`);
    await page.fill('#email', person.email);
    await page.fill('#password', 'wrong');
    await page.click('#email-login button[type=submit]');
    await page.waitForSelector('[role=alert]');
    assert.match((await page.textContent('[role=alert]'))!, /Incorrect email or password/);
    // The control plane no longer returns passwords: this person has the default one.
    await page.fill('#password', 'kapibara');
    await page.click('#email-login button[type=submit]');
    await page.waitForSelector('form#consent');
    assert.equal(await page.textContent('#signed-in-as'), 'Muzi');
    await page.context().close();
  });

  it('host-mapped: the browser goes to https://kauth.kakao.com, which reaches Kapibara over TLS', async () => {
    const { app, person } = await setup();
    const tls = await listenTls(h.app, { port: 0 });
    // Chromium maps the host name to the TLS port (like a hosts-file entry plus a port) and
    // trusts the certificate by its public key hash, as a developer's browser would after
    // importing it.
    const spki = createHash('sha256').update(new X509Certificate(tls.cert).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    const mapped = await launchChromium([`--host-resolver-rules=MAP kauth.kakao.com 127.0.0.1:${tls.port}`, `--ignore-certificate-errors-spki-list=${spki}`]);
    try {
      web.authorizeOrigin = 'https://kauth.kakao.com';
      const page = await (await mapped.newContext()).newPage();
      await page.goto(`${web.origin}/login`);
      assert.equal(new URL(page.url()).origin, 'https://kauth.kakao.com');
      await page.click(`button[data-account-id="${person.id}"]`);
      await page.waitForSelector('form#consent');
      const cookies = await page.context().cookies('https://kauth.kakao.com');
      assert.deepEqual(cookies.map((c) => [c.name, c.httpOnly, c.secure]).sort(), [['kapibara_csrf', true, true], ['kapibara_session', true, true]]);
      await page.click('button[value="agree"]');
      await page.waitForSelector('#result');
      assert.equal(await page.textContent('#result'), 'Logged in');
      assert.equal(web.callbacks[0].query.state, 'st-0');
      const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
      assert.deepEqual(link.scopes, ['profile_nickname']);
    } finally {
      await mapped.close();
      await tls.close();
    }
  });
});
