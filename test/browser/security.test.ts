import { after, before, it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { forEachStore, type TestApp, type TestAccount } from '../helpers/harness.js';
import { launchChromium } from '../helpers/browser.js';

/**
 * The browser attacks of issue 14 (items 1, 4, 5, 6), in Chromium: Kapibara listens on
 * 127.0.0.1, a hostile site is served from another loopback port (as `localhost`, another
 * site, or `127.0.0.1`, the same site), and a registered web app from a third.
 */

/** A loopback site serving whatever pages a test puts in it; records the callbacks it gets. */
class Site {
  server!: http.Server;
  port = 0;
  pages = new Map<string, string>();
  callbacks: Record<string, string>[] = [];

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://site');
      if (url.pathname === '/callback') {
        this.callbacks.push(Object.fromEntries(url.searchParams));
        res.writeHead(200, { 'content-type': 'text/html' }).end('<h1 id="callback">back at the app</h1>');
        return;
      }
      const page = this.pages.get(url.pathname);
      if (page === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** The site's origin under a host name (`localhost`: another site than 127.0.0.1; `127.0.0.1`: the same site). */
  origin(host: 'localhost' | '127.0.0.1'): string {
    return `http://${host}:${this.port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

forEachStore('security attacks in Chromium', (h) => {
  let browser: Browser;
  let kapibara = '';
  const evil = new Site();
  const web = new Site();

  before(async () => {
    browser = await launchChromium();
    kapibara = await h.listen();
    await evil.start();
    await web.start();
  });
  after(async () => {
    await browser?.close();
    await evil.stop();
    await web.stop();
  });

  async function setup(): Promise<{ app: TestApp; person: TestAccount; page: Page }> {
    evil.pages.clear();
    evil.callbacks = [];
    web.callbacks = [];
    const app = await h.createApp({
      name: 'Shop',
      redirect_uris: [`${web.origin('127.0.0.1')}/callback`],
      web_domains: [web.origin('127.0.0.1')],
      consent_items: { profile_nickname: 'required', account_email: 'optional', talk_message: 'optional', friends: 'optional' },
    });
    const person = await h.createAccount({ nickname: 'Muzi', email: 'muzi@example.com' });
    const page = await (await browser.newContext()).newPage();
    return { app, person, page };
  }

  /** Signs the person in to Kapibara in this browser through the app's normal login (profile only). */
  async function signIn(page: Page, app: TestApp, person: TestAccount): Promise<void> {
    const q = new URLSearchParams({ client_id: app.rest_api_key, redirect_uri: `${web.origin('127.0.0.1')}/callback`, response_type: 'code', scope: 'profile_nickname' });
    await page.goto(`${kapibara}/oauth/authorize?${q}`);
    await page.click(`button[data-account-id="${person.id}"]`);
    await page.click('button[value="agree"]');
    await page.waitForSelector('#callback');
    assert.equal(web.callbacks.length, 1);
  }

  it('item 1: a page on another origin can neither read nor change the control plane', async () => {
    const { app, page } = await setup();
    const attack = `<script>
      (async () => {
        const K = ${JSON.stringify(kapibara)};
        const out = {};
        try { const r = await fetch(K + '/_kapibara/v1/state'); out.read = (await r.text()).slice(0, 40); } catch (e) { out.read = 'blocked'; }
        try { const r = await fetch(K + '/_kapibara/v1/apps', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Evil JSON"}' }); out.create = r.status; } catch (e) { out.create = 'blocked'; }
        await fetch(K + '/_kapibara/v1/apps', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"name":"Evil text"}' }).catch(() => {});
        await fetch(K + '/_kapibara/v1/reset', { method: 'POST', mode: 'no-cors' }).catch(() => {});
        try { const r = await fetch(K + '/_kapibara/console'); out.console = (await r.text()).slice(0, 40); } catch (e) { out.console = 'blocked'; }
        window.result = out;
      })();
    </script>`;
    evil.pages.set('/attack', attack);
    for (const host of ['localhost', '127.0.0.1'] as const) {
      await page.goto(`${evil.origin(host)}/attack`);
      const out = await (await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, undefined, { polling: 100 })).jsonValue();
      assert.deepEqual(out, { read: 'blocked', create: 'blocked', console: 'blocked' }, host);
    }
    // Nothing was created and nothing was wiped.
    assert.deepEqual((await h.control('GET', '/apps')).map((a: TestApp) => a.name), [app.name]);
    await page.context().close();
  });

  it("item 1: kapi still answers the JavaScript SDK's calls from any origin (GET, POST, DELETE with the SDK's headers)", async () => {
    const { app, person, page } = await setup();
    const tokens = await h.token(app, person);
    evil.pages.set(
      '/sdk',
      `<script>
      (async () => {
        const K = ${JSON.stringify(kapibara)};
        const headers = { Authorization: 'Bearer ${tokens.access_token}', KA: 'sdk/2.7.2 os/javascript sdk_type/javascript lang/en-US origin/' + encodeURIComponent(location.origin),
          'Cache-Control': 'no-cache, no-store, max-age=0, must-revalidate', Pragma: 'no-cache', 'Content-Type': 'application/x-www-form-urlencoded' };
        const call = async (method, path) => { try { const r = await fetch(K + path, { method, headers }); return [r.status, Object.keys(await r.json()).sort().join(',')]; } catch (e) { return 'blocked'; } };
        window.result = { me: await call('GET', '/v2/user/me'), del: await call('DELETE', '/v1/api/story/delete/mystory?id=AAAAAAA.nope'), logout: await call('POST', '/v1/user/logout') };
      })();
    </script>`,
    );
    await page.goto(`${evil.origin('localhost')}/sdk`);
    const out = (await (await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, undefined, { polling: 100 })).jsonValue()) as Record<string, unknown>;
    assert.equal((out.me as [number, string])[0], 200, JSON.stringify(out));
    assert.notEqual(out.del, 'blocked', 'a DELETE is preflighted and answered');
    assert.deepEqual(out.logout, [200, 'id']);
    await page.context().close();
  });

  it('item 4: the JS-SDK login result reaches only an opener on a registered web domain', async () => {
    const { app, person, page } = await setup();
    const opener = `<button id="open">Log in with Kakao</button><script>
      window.got = [];
      addEventListener('message', (e) => window.got.push(String(e.data)));
      document.getElementById('open').onclick = () => window.open(${JSON.stringify(`${kapibara}/oauth/authorize?client_id=${app.javascript_key}&redirect_uri=JS-SDK&response_type=code&state=js1`)}, 'kakao_login');
    </script>`;
    evil.pages.set('/opener', opener);
    web.pages.set('/opener', opener);

    const run = async (p: Page, origin: string, firstTime: boolean): Promise<string[]> => {
      await p.goto(`${origin}/opener`);
      const [popup] = await Promise.all([p.waitForEvent('popup'), p.click('#open')]);
      if (firstTime) await popup.click(`button[data-account-id="${person.id}"]`);
      await popup.click('button[value="agree"]');
      await popup.waitForSelector('[data-field="code"]');
      // Messages from one window arrive in order: once this one is in, an earlier one would be too.
      await popup.evaluate(() => window.opener.postMessage('sentinel', '*'));
      await p.waitForFunction(() => (window as unknown as { got: string[] }).got.includes('sentinel'), undefined, { polling: 100 });
      await popup.close();
      return p.evaluate(() => (window as unknown as { got: string[] }).got);
    };

    // A page on another site (and one on the same site) opens the login: it gets nothing.
    assert.deepEqual(await run(page, evil.origin('localhost'), true), ['sentinel']);
    await h.control('DELETE', `/apps/${app.id}/users/${person.id}`);
    assert.deepEqual(await run(page, evil.origin('127.0.0.1'), false), ['sentinel']);
    await h.control('DELETE', `/apps/${app.id}/users/${person.id}`);
    // The registered web domain gets the code.
    const got = await run(page, web.origin('127.0.0.1'), false);
    assert.equal(got.length, 2, JSON.stringify(got));
    const result = JSON.parse(got[0]);
    assert.equal(result.state, 'js1');
    assert.match(result.code, /^[A-Za-z0-9_-]+$/);
    await page.context().close();
  });

  it('item 5: a same-site page on another loopback port cannot submit consent or log someone in', async () => {
    const { app, person, page } = await setup();
    await signIn(page, app, person);
    const request = new URLSearchParams({
      client_id: app.rest_api_key,
      redirect_uri: `${web.origin('127.0.0.1')}/callback`,
      response_type: 'code',
      scope: 'profile_nickname account_email friends talk_message',
      state: 'csrf',
    }).toString();
    const field = (name: string, value: string) => `<input type="hidden" name="${name}" value="${value.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">`;
    evil.pages.set(
      '/consent',
      `<form id="f" method="post" action="${kapibara}/oauth/authorize/consent">${field('request', request)}${field('action', 'agree')}
       ${field('scope', 'account_email')}${field('scope', 'friends')}${field('scope', 'talk_message')}</form><script>document.getElementById('f').submit();</script>`,
    );
    evil.pages.set(
      '/login',
      `<form id="f" method="post" action="${kapibara}/oauth/authorize/login">${field('request', request)}${field('account_id', String(person.id))}</form>
       <script>document.getElementById('f').submit();</script>`,
    );
    for (const path of ['/consent', '/login']) {
      await page.goto(`${evil.origin('127.0.0.1')}${path}`);
      await page.waitForURL((url) => url.pathname.startsWith('/oauth/authorize') || url.pathname === '/callback');
      assert.equal(new URL(page.url()).origin, kapibara, `${path}: still on Kapibara, not redirected back to the app`);
      assert.match((await page.textContent('#form-refused')) ?? '', /another site's page/);
    }
    assert.equal(web.callbacks.length, 1, 'no code was issued by the attacks');
    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    assert.deepEqual(link.scopes, ['profile_nickname']);
    await page.context().close();
  });

  it('item 6: the login and consent pages and the console do not render in a frame on another site', async () => {
    const { app, person, page } = await setup();
    await signIn(page, app, person);
    const authorize = (scope: string) =>
      `${kapibara}/oauth/authorize?${new URLSearchParams({ client_id: app.rest_api_key, redirect_uri: `${web.origin('127.0.0.1')}/callback`, response_type: 'code', scope, prompt: scope === 'profile_nickname' ? 'login' : '' })}`;
    evil.pages.set(
      '/frames',
      `<iframe id="login" src="${authorize('profile_nickname')}"></iframe><iframe id="consent" src="${authorize('account_email')}"></iframe>
       <iframe id="console" src="${kapibara}/_kapibara/console"></iframe>`,
    );
    for (const host of ['localhost', '127.0.0.1'] as const) {
      await page.goto(`${evil.origin(host)}/frames`, { waitUntil: 'load' });
      for (const [id, selector] of [
        ['login', 'form#email-login'],
        ['consent', 'form#consent'],
        ['console', 'header'],
      ]) {
        const frame = await (await page.$(`#${id}`))!.contentFrame();
        assert.ok(frame, id);
        const rendered = await frame.$(selector).catch(() => null);
        assert.equal(rendered, null, `${host}: the ${id} page rendered in the frame (${frame.url()})`);
      }
    }
    // Opened directly, the same pages work.
    await page.goto(authorize('account_email'));
    assert.ok(await page.$('form#consent'));
    await page.context().close();
  });
});
