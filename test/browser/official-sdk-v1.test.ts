import { after, before, it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { forEachStore, type Harness, type TestApp, type TestAccount } from '../helpers/harness.js';
import { listenTls, type TlsListener } from '../../src/core/tls.js';
import { AppSite, assertOfficialSdk, mappedChromium } from './sdk-pages.js';

/**
 * Kakao's official JavaScript SDK v1.39.14, loaded unmodified by an app's page, against
 * Kapibara through host mapping: Chromium resolves kauth, kapi, sharer and story.kakao.com
 * to Kapibara's TLS listener, so they are different hosts sharing no cookie, as in
 * production. SDK v1 reaches kapi through the easyXDM page /cors/ and logs in through
 * kauth's login widget and a popup ending on redirect_uri=kakaojs.
 */

forEachStore('Official SDK v1.39.14 in Chromium, host-mapped', (h: Harness) => {
  let browser: Browser;
  let tls: TlsListener;
  const site = new AppSite();

  before(async () => {
    assertOfficialSdk();
    tls = await listenTls(h.app, { port: 0 });
    browser = await mappedChromium(tls);
    await site.start();
    site.sdkSrc = '/kakao-1.39.14.js';
  });
  after(async () => {
    await browser?.close();
    await tls?.close();
    await site.stop();
  });

  async function open(): Promise<{ app: TestApp; person: TestAccount; context: BrowserContext; page: Page }> {
    const app = await h.createApp({
      name: 'V1 Shop',
      web_domains: [site.origin],
      consent_items: { profile_nickname: 'required', story_read: 'optional', story_publish: 'optional' },
    });
    const person = await h.createAccount({ nickname: 'Ryan', email: 'ryan@example.com' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${site.origin}/page`);
    await page.evaluate((key) => window.Kakao.init(key), app.javascript_key);
    return { app, person, context, page };
  }

  it('Kakao.API.request goes through kapi /cors/ and resolves with the body', async () => {
    const { app, person, context, page } = await open();
    const tokens = await h.token(app, person);
    const expected = (await h.kapi('GET', '/v2/user/me', tokens.access_token)).json();
    const me = await page.evaluate(async (token) => {
      window.Kakao.Auth.setAccessToken(token);
      const seen: unknown[] = [];
      const result = await window.Kakao.API.request({ url: '/v2/user/me', success: (r: unknown) => seen.push(r) });
      return { result, seen };
    }, tokens.access_token);
    assert.deepEqual(me, { result: expected, seen: [expected] });
    const frame = page.frames().find((f) => f.url().startsWith('https://kapi.kakao.com/cors/'));
    assert.ok(frame, 'the SDK framed kapi /cors/');
    const xdm = new URL(frame.url());
    assert.equal(xdm.searchParams.get('xdm_e'), site.origin);
    assert.equal(xdm.searchParams.get('xdm_p'), '1');
    await context.close();
  });

  it('an API error rejects with the response text, as SDK v1 reports it', async () => {
    const { context, page } = await open();
    const error = await page.evaluate(async () => {
      window.Kakao.Auth.setAccessToken('unknown-token');
      return window.Kakao.API.request({ url: '/v2/user/me' }).catch((e: unknown) => e);
    });
    // SDK v1 rejects with JSON.stringify(responseText): the body's text, quoted.
    assert.equal(typeof error, 'string');
    assert.deepEqual(JSON.parse(JSON.parse(error as string)), { msg: 'this access token does not exist', code: -401 });
    await context.close();
  });

  it('from a page whose origin is no registered web domain, API.request reaches kapi: a JavaScript-key call rejects with its -401 (fail and always run), a token call resolves', async () => {
    const app = await h.createApp({ name: 'V1 Shop', web_domains: [site.origin], consent_items: { profile_nickname: 'required' } });
    const person = await h.createAccount({ nickname: 'Ryan' });
    const tokens = await h.token(app, person);
    // Another origin of the same host, which no app registered (the developer forgot it).
    const stranger = new AppSite();
    await stranger.start();
    stranger.sdkSrc = '/kakao-1.39.14.js';
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${stranger.origin}/page`);
      await page.evaluate((key) => window.Kakao.init(key), app.javascript_key);
      const out = await page.evaluate(async () => {
        // Bounded: before the fix the SDK never heard from /cors/ and nothing ever settled.
        const settle = (p: Promise<unknown>) =>
          Promise.race([p.then((r) => ({ resolved: r }), (e) => ({ rejected: e })), new Promise((r) => setTimeout(() => r({ pending: 'nothing settled in 10 s' }), 10000))]);
        const callbacks: [string, unknown][] = [];
        const scrap = await settle(
          window.Kakao.API.request({
            url: '/v2/api/talk/message/image/scrap',
            data: { image_url: 'https://example.com/a.png' },
            success: (r: unknown) => callbacks.push(['success', r]),
            fail: (e: unknown) => callbacks.push(['fail', e]),
            always: (e: unknown) => callbacks.push(['always', e]),
          }),
        );
        const link = await settle(window.Kakao.Link.scrapImage({ imageUrl: 'https://example.com/a.png' }));
        return { scrap, link, callbacks };
      });
      const refused = { msg: `domain mismatched! caller=${stranger.origin}. check out registered web domains.`, code: -401 };
      const rejected = (outcome: unknown) => {
        assert.ok(outcome && typeof outcome === 'object' && 'rejected' in outcome, JSON.stringify(outcome));
        return JSON.parse(JSON.parse((outcome as { rejected: string }).rejected));
      };
      assert.deepEqual(rejected(out.scrap), refused);
      assert.deepEqual(rejected(out.link), refused);
      assert.deepEqual(
        out.callbacks.map(([name, e]) => [name, JSON.parse(JSON.parse(e as string))]),
        [
          ['fail', refused],
          ['always', refused],
        ],
      );
      const frame = page.frames().find((f) => f.url().startsWith('https://kapi.kakao.com/cors/'));
      assert.ok(frame, 'the SDK framed kapi /cors/');
      assert.equal(new URL(frame.url()).searchParams.get('xdm_e'), stranger.origin);

      // A token call is answered as kapi answers any page calling it with CORS.
      const expected = (await h.kapi('GET', '/v2/user/me', tokens.access_token)).json();
      const me = await page.evaluate(async (token) => {
        window.Kakao.Auth.setAccessToken(token);
        return window.Kakao.API.request({ url: '/v2/user/me' });
      }, tokens.access_token);
      assert.deepEqual(me, expected);
    } finally {
      await context.close();
      await stranger.stop();
    }
  });

  it('Kakao.API.request: the legacy /v1/user/service/terms and /v1/api/talk/plusfriends of SDK v1\'s list resolve with their answers', async () => {
    const app = await h.createApp({
      name: 'V1 Legacy',
      web_domains: [site.origin],
      consent_items: { profile_nickname: 'required', plusfriends: 'optional' },
      service_terms: [
        { tag: 'tos', required: true },
        { tag: 'marketing', required: false },
      ],
    });
    const person = await h.createAccount({ nickname: 'Apeach' });
    const tokens = await h.token(app, person, ['profile_nickname', 'plusfriends']);
    await h.control('POST', '/channels', { app_id: app.id, public_id: '_v1legacy', search_id: '@v1legacy', name: 'V1 Legacy' });
    await h.control('POST', '/channels', { app_id: app.id, public_id: '_v1other', search_id: '@v1other', name: 'V1 Other' });
    const added = await h.control('PUT', `/channels/_v1legacy/relations/${person.id}`, { relation: 'ADDED' });
    const v2 = (await h.kapi('GET', '/v2/user/service_terms', tokens.access_token)).json();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${site.origin}/page`);
      await page.evaluate((key) => window.Kakao.init(key), app.javascript_key);
      const out = await page.evaluate(async (token) => {
        window.Kakao.Auth.setAccessToken(token);
        const terms = await window.Kakao.API.request({ url: '/v1/user/service/terms' });
        const plusfriends = await window.Kakao.API.request({ url: '/v1/api/talk/plusfriends', data: { plus_friend_public_ids: ['_v1other', '_v1legacy'] } });
        return { terms, plusfriends };
      }, tokens.access_token);
      assert.deepEqual(out.terms, {
        user_id: tokens.user_id,
        allowed_service_terms: v2.service_terms.map((t: { tag: string; agreed_at: string }) => ({ tag: t.tag, agreed_at: t.agreed_at })),
      });
      assert.deepEqual(
        out.terms.allowed_service_terms.map((t: { tag: string }) => t.tag),
        ['tos', 'marketing'],
      );
      assert.deepEqual(out.plusfriends, {
        user_id: tokens.user_id,
        channels: [
          { channel_uuid: '@v1other', channel_public_id: '_v1other', relation: 'NONE' },
          { channel_uuid: '@v1legacy', channel_public_id: '_v1legacy', relation: 'ADDED', updated_at: added.updated_at },
        ],
      });
    } finally {
      await context.close();
    }
  });

  it("Kakao.Auth.createLoginButton: kauth's button pictures load (each size, and the press picture on hover)", async () => {
    const { context, page } = await open();
    const picture = () =>
      page
        .waitForFunction(() => {
          const img = document.querySelector<HTMLImageElement>('#kakao-login-btn');
          return img !== null && img.complete && img.naturalWidth > 0;
        }, undefined, { timeout: 10000 })
        .then(() => page.evaluate(() => {
          const img = document.querySelector<HTMLImageElement>('#kakao-login-btn')!;
          return { src: img.src, width: img.naturalWidth, height: img.naturalHeight };
        }));
    await page.evaluate(() => {
      const box = document.createElement('div');
      box.id = 'login-box';
      document.body.append(box);
    });
    for (const [settings, name, width, height] of [
      // SDK v1's defaults: lang kr, size medium (02).
      [{}, 'kr/kr_02_medium', 240, 36],
      [{ size: 'large' }, 'kr/kr_01_medium', 300, 45],
      [{ size: 'small', lang: 'en' }, 'en/en_03_medium', 180, 27],
    ] as const) {
      await page.evaluate((settings) => window.Kakao.Auth.createLoginButton({ container: '#login-box', ...settings }), settings);
      assert.deepEqual(await picture(), { src: `https://kauth.kakao.com/public/widget/login/${name}.png`, width, height });
    }
    await page.hover('#kakao-login-btn');
    await page.waitForFunction(() => document.querySelector<HTMLImageElement>('#kakao-login-btn')!.src.endsWith('_press.png'));
    assert.deepEqual(await picture(), { src: 'https://kauth.kakao.com/public/widget/login/en/en_03_medium_press.png', width: 180, height: 27 });
    await context.close();
  });

  it('a story posted and deleted through the proxy (POST and DELETE)', async () => {
    const { app, person, context, page } = await open();
    const tokens = await h.token(app, person);
    const out = await page.evaluate(async (token) => {
      window.Kakao.Auth.setAccessToken(token);
      const posted = await window.Kakao.API.request({ url: '/v1/api/story/post/note', data: { content: 'hello from SDK v1' } });
      const deleted = await window.Kakao.API.request({ url: '/v1/api/story/delete/mystory', data: { id: posted.id } });
      return { posted, deleted };
    }, tokens.access_token);
    assert.match(out.posted.id, /^.+\..+$/);
    assert.deepEqual(out.deleted, {});
    const gone = await h.kapi('GET', '/v1/api/story/mystory', tokens.access_token, { id: out.posted.id });
    assert.equal(gone.statusCode, 400);
    await context.close();
  });

  /**
   * Kakao.Auth.login through the popup. The SDK frames kauth's login widget as it opens the
   * popup; `holdWidget` keeps that frame's request until the popup has shown its result
   * page, the order a busy machine can produce (the popup then waits for the widget). Every
   * wait is on an event with Playwright's bounded timeout: the popup closing, the callback
   * having run (never an unbounded `evaluate` of a promise).
   */
  async function loginThroughPopup(holdWidget: boolean): Promise<void> {
    const { person, context, page } = await open();
    // What the page and the popup said, for a login that never reaches the page's callbacks
    // (seen once in a full CI run: the popup closed, neither callback ran).
    const said: string[] = [];
    const listen = (p: Page, who: string) => {
      p.on('console', (m) => said.push(`${who} console.${m.type()}: ${m.text()}`));
      p.on('pageerror', (e) => said.push(`${who} error: ${e.message}`));
    };
    listen(page, 'page');
    let releaseWidget: (() => Promise<void>) | undefined;
    const widgetHeld = new Promise<void>((resolve) => {
      if (!holdWidget) return resolve();
      void context.route('https://kauth.kakao.com/public/widget/login/kakaoLoginWidget.html?**', (route) => {
        releaseWidget = () => route.continue();
        resolve();
      });
    });
    const popupPromise = context.waitForEvent('page');
    await page.evaluate(() => {
      window.Kakao.Auth.login({
        success: (r: unknown) => ((window as any).loginResult = { ok: r }),
        fail: (e: unknown) => ((window as any).loginResult = { error: e }),
      });
    });
    const popup = await popupPromise;
    listen(popup, 'popup');
    popup.on('framenavigated', (f) => f === popup.mainFrame() && said.push(`popup at ${f.url().split('?')[0]}`));
    await popup.waitForLoadState();
    const authorize = new URL(popup.url());
    assert.equal(authorize.origin, 'https://kauth.kakao.com');
    assert.equal(authorize.searchParams.get('redirect_uri'), 'kakaojs');
    await popup.click(`button[data-account-id="${person.id}"]`);
    await popup.waitForSelector('form#consent');
    const closed = popup.waitForEvent('close');
    await popup.click('button[value="agree"]');
    if (holdWidget) {
      await popup.waitForSelector('#kakao-result', { state: 'attached' });
      await widgetHeld;
      await releaseWidget!();
    }
    await closed;
    await page.waitForFunction(() => (window as any).loginResult !== undefined, undefined, { polling: 100 }).catch((err: Error) => {
      throw new Error(`${err.message}\n${said.join('\n') || 'neither window logged anything'}`);
    });
    const result = (await page.evaluate(() => (window as any).loginResult)) as { ok?: Record<string, unknown>; error?: unknown };
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.ok.token_type, 'bearer');
    assert.equal(typeof result.ok.access_token, 'string');
    assert.equal(await page.evaluate(() => window.Kakao.Auth.getAccessToken()), result.ok.access_token);
    const me = await page.evaluate(() => window.Kakao.API.request({ url: '/v2/user/me' }));
    assert.equal(me.properties.nickname, 'Ryan');
    await context.close();
  }

  it('Kakao.Auth.login: popup on kauth, consent, redirect_uri=kakaojs, the widget hands the token to the page', async () => {
    await loginThroughPopup(false);
  });

  it('Kakao.Auth.login when the widget frame loads only after the person consented: the popup waits for it', async () => {
    await loginThroughPopup(true);
  });

  it('/cors/ may be framed by any http(s) origin, that origin only; the login widget only by a registered web domain', async () => {
    await h.createApp({ web_domains: [site.origin] });
    const ok = await h.inject({ method: 'GET', url: `/cors/?xdm_e=${encodeURIComponent(site.origin)}&xdm_c=default0&xdm_p=1`, headers: { host: 'kapi.kakao.com' } });
    assert.equal(ok.statusCode, 200);
    assert.match(String(ok.headers['content-security-policy']), new RegExp(`frame-ancestors ${site.origin.replace(/\./g, '\\.')}$`));
    const widget = await h.inject({ method: 'GET', url: `/public/widget/login/kakaoLoginWidget.html?xdm_e=${encodeURIComponent(site.origin)}&xdm_c=ch1&xdm_p=1` });
    assert.equal(widget.statusCode, 200);
    assert.match(String(widget.headers['content-security-policy']), /frame-ancestors http:\/\/127\.0\.0\.1:\d+$/);
    // /cors/ runs only Kakao API calls, which kapi answers any origin with CORS anyway; kapi
    // refuses an unregistered origin's JavaScript key itself (-401).
    const other = await h.inject({ method: 'GET', url: `/cors/?xdm_e=${encodeURIComponent('https://evil.example')}&xdm_c=default0&xdm_p=1` });
    assert.equal(other.statusCode, 200);
    assert.match(String(other.headers['content-security-policy']), /frame-ancestors https:\/\/evil\.example$/);
    assert.match(other.body, /"remote":"https:\/\/evil\.example"/);
    // The login widget relays login results: a registered web domain only.
    const otherWidget = await h.inject({ method: 'GET', url: `/public/widget/login/kakaoLoginWidget.html?xdm_e=${encodeURIComponent('https://evil.example')}&xdm_c=ch1&xdm_p=1` });
    assert.equal(otherWidget.statusCode, 400);
    assert.match(otherWidget.body, /xdm_e https:\/\/evil\.example is not a registered web domain of any app/);
    for (const bad of ['null', 'javascript:alert(1)', 'ftp://files.example', 'not an origin']) {
      const res = await h.inject({ method: 'GET', url: `/cors/?xdm_e=${encodeURIComponent(bad)}&xdm_c=default0&xdm_p=1` });
      assert.equal(res.statusCode, 400, bad);
      assert.match(res.body, /is not an http\(s\) origin/, bad);
    }
    const transport = await h.inject({ method: 'GET', url: `/cors/?xdm_e=${encodeURIComponent(site.origin)}&xdm_c=default0&xdm_p=0` });
    assert.equal(transport.statusCode, 400);
    assert.match(transport.body, /only the postMessage transport \(xdm_p=1\) is served/);
  });

  it('Kakao.Story.share opens story.kakao.com/s/share: sign in there, preview, post as a link story', async () => {
    const { app, person, context, page } = await open();
    const article = `${site.origin}/article`;
    const popupPromise = context.waitForEvent('page');
    await page.evaluate((url) => window.Kakao.Story.share({ url, text: 'Look at this' }), article);
    const popup = await popupPromise;
    await popup.waitForLoadState();
    const shareUrl = new URL(popup.url());
    assert.equal(shareUrl.origin + shareUrl.pathname, 'https://story.kakao.com/s/share');
    assert.equal(shareUrl.searchParams.get('url'), article);
    assert.equal(shareUrl.searchParams.get('app_key'), app.javascript_key);
    // story.kakao.com shares no cookie with kauth: the person signs in here.
    await popup.click(`button[data-account-id="${person.id}"]`);
    await popup.waitForSelector('form#share');
    assert.equal(await popup.textContent('#preview-title'), 'Capybaras at the hot spring');
    assert.equal(await popup.inputValue('#text'), 'Look at this');
    await popup.selectOption('#permission', 'F');
    await popup.click('form#share button[type=submit]');
    await popup.waitForSelector('#posted');
    const id = await popup.getAttribute('#posted', 'data-story-id');
    const tokens = await h.token(app, person);
    const story = await h.kapi('GET', '/v1/api/story/mystory', tokens.access_token, { id: id! });
    assert.equal(story.statusCode, 200, story.body);
    const body = story.json();
    assert.equal(body.content, 'Look at this');
    assert.equal(body.permission, 'FRIEND');
    assert.equal(body.media_type, 'NOT_SUPPORTED');
    await context.close();
  });

  it('the Story share page refuses a missing or unknown app key and a cross-site form', async () => {
    const missing = await h.inject({ method: 'GET', url: '/s/share?url=https%3A%2F%2Fexample.com' });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /app_key is required: call Kakao.init/);
    const unknown = await h.inject({ method: 'GET', url: '/s/share?url=https%3A%2F%2Fexample.com&app_key=nope' });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.body, /invalid app_key: nope is not the JavaScript key of an app/);
    const app = await h.createApp({ web_domains: [site.origin] });
    const forged = await h.inject({
      method: 'POST',
      url: '/s/share',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      payload: new URLSearchParams({ url: `${site.origin}/article`, app_key: app.javascript_key, text: 'x' }).toString(),
    });
    assert.equal(forged.statusCode, 403);
  });
});
