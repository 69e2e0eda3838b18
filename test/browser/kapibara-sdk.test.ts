import { after, before, it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { forEachStore, type Harness, type TestApp, type TestAccount } from '../helpers/harness.js';
import { launchChromium } from '../helpers/browser.js';
import { AppSite } from './sdk-pages.js';

/**
 * Kapibara's own browser SDK (/sdk/js/kakao.js) in Chromium, on an app's page on another
 * origin, with no host mapping: the app changed only its <script src>.
 */

forEachStore('Kapibara browser SDK in Chromium', (h: Harness) => {
  let browser: Browser;
  let kapibara = '';
  const site = new AppSite();

  before(async () => {
    browser = await launchChromium();
    kapibara = await h.listen();
    await site.start();
  });
  after(async () => {
    await browser?.close();
    await site.stop();
  });

  async function open(script = 'kakao.js'): Promise<{ app: TestApp; person: TestAccount; context: BrowserContext; page: Page }> {
    site.sdkSrc = `${kapibara}/sdk/js/${script}`;
    const app = await h.createApp({
      name: 'SDK Shop',
      web_domains: [site.origin],
      consent_items: { profile_nickname: 'required', story_read: 'optional', story_publish: 'optional' },
      service_terms: [
        { tag: 'terms_a', title: 'Terms A', required: true },
        { tag: 'terms_b', title: 'Terms B', required: false },
      ],
    });
    const person = await h.createAccount({ nickname: 'Apeach', email: 'apeach@example.com' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${site.origin}/page`);
    await page.evaluate((key) => window.Kakao.init(key), app.javascript_key);
    return { app, person, context, page };
  }

  it('serves the bundle and a minified build; init, isInitialized, cleanup and VERSION behave as the SDK does', async () => {
    for (const file of ['kakao.js', 'kakao.min.js']) {
      const res = await h.inject({ method: 'GET', url: `/sdk/js/${file}` });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.match(res.body, /Kakao/);
      const again = await h.inject({ method: 'GET', url: `/sdk/js/${file}`, headers: { 'if-none-match': String(res.headers.etag) } });
      assert.equal(again.statusCode, 304);
    }
    const { context, page } = await open('kakao.min.js');
    const state = await page.evaluate(() => {
      const K = window.Kakao;
      const out: Record<string, unknown> = { version: K.VERSION, initialized: K.isInitialized() };
      try {
        K.init('again');
      } catch (e) {
        out.twice = `${(e as Error).name}: ${(e as Error).message}`;
      }
      K.cleanup();
      out.afterCleanup = K.isInitialized();
      try {
        K.Auth.getAccessToken();
      } catch (e) {
        out.uninitialized = (e as Error).message;
      }
      return out;
    });
    assert.match(String(state.version), /^2\.\d+\.\d+-kapibara\./);
    assert.equal(state.initialized, true);
    assert.equal(state.twice, 'KakaoError: Kakao.init: already initialized; call Kakao.cleanup() first to use another app key.');
    assert.equal(state.afterCleanup, false);
    assert.equal(state.uninitialized, 'Auth.getAccessToken: Kakao.init(appKey) must be called first.');
    await context.close();
  });

  it('API.request resolves with the body on 200 and rejects with the error body otherwise', async () => {
    const { app, person, context, page } = await open();
    const tokens = await h.token(app, person);
    const expected = (await h.kapi('GET', '/v2/user/me', tokens.access_token)).json();
    const me = await page.evaluate(async (token) => {
      window.Kakao.Auth.setAccessToken(token);
      return window.Kakao.API.request({ url: '/v2/user/me' });
    }, tokens.access_token);
    assert.deepEqual(me, expected);
    const failed = await page.evaluate(async () => {
      window.Kakao.Auth.setAccessToken('not-a-token');
      const calls: string[] = [];
      const error = await window.Kakao.API.request({ url: '/v2/user/me', fail: () => calls.push('fail'), always: () => calls.push('always') }).catch((e: unknown) => e);
      return { error, calls };
    });
    assert.deepEqual(failed, { error: { msg: 'this access token does not exist', code: -401 }, calls: ['fail', 'always'] });
    const unknownUrl = await page.evaluate(() => {
      try {
        window.Kakao.API.request({ url: '/v9/nothing' });
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    assert.match(unknownUrl, /\/v9\/nothing is not an API this SDK can call/);
    await context.close();
  });

  it('a DELETE from the page passes the CORS preflight: a story is deleted through API.request', async () => {
    const { app, person, context, page } = await open();
    const tokens = await h.token(app, person);
    const posted = await h.kapi('POST', '/v1/api/story/post/note', tokens.access_token, { content: 'to be deleted' });
    assert.equal(posted.statusCode, 200, posted.body);
    const { id } = posted.json();
    const deleted = await page.evaluate(
      async ([token, storyId]) => {
        window.Kakao.Auth.setAccessToken(token);
        return window.Kakao.API.request({ url: '/v1/api/story/delete/mystory', data: { id: storyId } }).then(
          (r: unknown) => ({ ok: r }),
          (e: unknown) => ({ error: e }),
        );
      },
      [tokens.access_token, id],
    );
    assert.deepEqual(deleted, { ok: {} });
    const gone = await h.kapi('GET', '/v1/api/story/mystory', tokens.access_token, { id });
    assert.equal(gone.statusCode, 400);
    await context.close();
  });

  it('Auth.authorize({ isPopup: true }) polls /apiweb/code.json and resolves with the code once the person consents', async () => {
    const { app, person, context, page } = await open();
    const popupPromise = context.waitForEvent('page');
    const polls: string[] = [];
    page.on('request', (r: Request) => {
      if (r.url().includes('/apiweb/code.json')) polls.push(r.url());
    });
    await page.evaluate(() => {
      (window as any).login = window.Kakao.Auth.authorize({ isPopup: true, state: 'xyz' });
    });
    const popup = await popupPromise;
    await popup.waitForLoadState();
    const authorizeUrl = new URL(popup.url());
    assert.equal(authorizeUrl.origin + authorizeUrl.pathname, `${kapibara}/oauth/authorize`);
    assert.equal(authorizeUrl.searchParams.get('redirect_uri'), 'JS-SDK');
    assert.equal(authorizeUrl.searchParams.get('is_popup'), 'true');
    assert.equal(authorizeUrl.searchParams.get('auth_tran_id')?.length, 60);
    await popup.click(`button[data-account-id="${person.id}"]`);
    await popup.waitForSelector('form#consent');
    await popup.click('button[value="agree"]');
    const result = await page.evaluate(() => (window as any).login);
    assert.equal(result.state, 'xyz');
    assert.equal(typeof result.code, 'string');
    assert.ok(polls.length >= 1);
    const poll = new URL(polls[0]);
    assert.equal(poll.searchParams.get('client_id'), app.javascript_key);
    assert.equal(poll.searchParams.get('auth_tran_id'), authorizeUrl.searchParams.get('auth_tran_id'));
    // The code is a real one: the app's server exchanges it.
    const token = await h.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'authorization_code', client_id: app.javascript_key, redirect_uri: 'JS-SDK', code: result.code }).toString(),
    });
    assert.equal(token.statusCode, 200, token.body);
    // Handed out once: a second poll is pending again.
    const again = await h.inject({ method: 'GET', url: `/apiweb/code.json?client_id=${app.javascript_key}&auth_tran_id=${authorizeUrl.searchParams.get('auth_tran_id')}` });
    assert.deepEqual(again.json(), { status: 'error', error_code: '300', error: 'authorization_pending', error_description: 'The person has not finished logging in yet.' });
    await context.close();
  });

  it('Auth.authorize({ channelPublicId }) offers the channel on the consent page, checked; Agree adds it', async () => {
    const { app, person, context, page } = await open();
    await h.control('POST', '/channels', { app_id: app.id, public_id: '_sdkch1', search_id: '@sdkshop', name: 'SDK Shop News' });
    const popupPromise = context.waitForEvent('page');
    await page.evaluate(() => {
      (window as any).login = window.Kakao.Auth.authorize({ isPopup: true, channelPublicId: '_sdkch1' });
    });
    const popup = await popupPromise;
    await popup.waitForLoadState();
    assert.equal(new URL(popup.url()).searchParams.get('channel_public_id'), '_sdkch1');
    await popup.click(`button[data-account-id="${person.id}"]`);
    await popup.waitForSelector('form#consent');
    const box = popup.locator('input[name="channel_public_id"][value="_sdkch1"]');
    assert.equal(await box.isChecked(), true);
    assert.match(await popup.locator('form#consent').innerText(), /Add SDK Shop News as a channel/);
    await popup.click('button[value="agree"]');
    const result = await page.evaluate(() => (window as any).login);
    assert.equal(typeof result.code, 'string');
    const relation = await h.control<{ relation: string }>('GET', `/channels/_sdkch1/relations/${person.id}`);
    assert.equal(relation.relation, 'ADDED');
    await context.close();
  });

  it('a popup login the person cancels rejects with access_denied', async () => {
    const { person, context, page } = await open();
    const popupPromise = context.waitForEvent('page');
    await page.evaluate(() => {
      (window as any).login = window.Kakao.Auth.authorize({ isPopup: true }).then(
        (r: unknown) => ({ ok: r }),
        (e: unknown) => ({ error: e }),
      );
    });
    const popup = await popupPromise;
    await popup.click(`button[data-account-id="${person.id}"]`);
    await popup.waitForSelector('form#consent');
    await popup.click('button[value="cancel"]');
    assert.deepEqual(await page.evaluate(() => (window as any).login), { error: { error: 'access_denied', error_description: 'User denied access' } });
    await context.close();
  });

  it('a popup login whose window the person closes rejects with access_denied, not a promise left pending', async () => {
    const { context, page } = await open();
    const popupPromise = context.waitForEvent('page');
    await page.evaluate(() => {
      (window as any).login = window.Kakao.Auth.authorize({ isPopup: true, state: 's' }).then(
        (r: unknown) => ({ ok: r }),
        (e: unknown) => ({ error: e }),
      );
    });
    const popup = await popupPromise;
    await popup.waitForLoadState();
    await popup.close();
    assert.deepEqual(await page.evaluate(() => (window as any).login), {
      error: { error: 'access_denied', error_description: 'The login window was closed before the person answered.', state: 's' },
    });
    await context.close();
  });

  it('Auth.getAppKey and getStatusInfo; Channel.addChannel and chat open the channel\'s pages; a serverCallbackArgs that is not a JSON object throws', async () => {
    const { app, person, context, page } = await open();
    const tokens = await h.token(app, person);
    const out = await page.evaluate(async (token) => {
      const K = window.Kakao;
      const none = await K.Auth.getStatusInfo();
      K.Auth.setAccessToken(token);
      const connected = (await K.Auth.getStatusInfo()) as { status: string; user?: { id: number } };
      K.Auth.setAccessToken('not-a-token');
      const refused = await K.Auth.getStatusInfo();
      let thrown = '';
      try {
        K.Share.sendScrap({ requestUrl: location.origin, serverCallbackArgs: 'not json' });
      } catch (e) {
        thrown = `${(e as Error).name}: ${(e as Error).message}`;
      }
      return { key: K.Auth.getAppKey(), none, connected: [connected.status, connected.user?.id], refused, thrown };
    }, tokens.access_token);
    assert.deepEqual(out.key, app.javascript_key);
    assert.deepEqual(out.none, { status: 'not_connected' });
    assert.deepEqual(out.connected, ['connected', tokens.user_id]);
    assert.deepEqual(out.refused, { status: 'not_connected' });
    assert.match(out.thrown, /^KakaoError: .*serverCallbackArgs/);
    for (const [call, path] of [['addChannel', 'friend'], ['chat', 'chat']] as const) {
      const popupPromise = context.waitForEvent('page');
      await page.evaluate((c) => (window.Kakao.Channel as any)[c]({ channelPublicId: '_ZeUTxl' }), call);
      const popup = await popupPromise;
      const url = new URL(popup.url());
      assert.equal(`${url.origin}${url.pathname}`, `${kapibara}/_ZeUTxl/${path}`);
      assert.equal(url.searchParams.get('app_key'), app.javascript_key);
      await popup.close();
    }
    const bad = await page.evaluate(() => {
      try {
        window.Kakao.Channel.addChannel({ channelPublicId: 'nope' });
        return '';
      } catch (e) {
        return (e as Error).name;
      }
    });
    assert.equal(bad, 'KakaoError');
    await context.close();
  });

  it('Auth.authorize({ serviceTerms }) asks only for the listed terms', async () => {
    const { person, context, page } = await open();
    await page.evaluate(() => {
      // The page navigates away to kauth: start it after this evaluation returns.
      setTimeout(() => window.Kakao.Auth.authorize({ serviceTerms: 'terms_b', redirectUri: 'http://localhost:3000/callback' }), 0);
    });
    await page.waitForURL(/\/oauth\/authorize/);
    assert.equal(new URL(page.url()).searchParams.get('extra.service_terms'), 'terms_b');
    await page.click(`button[data-account-id="${person.id}"]`);
    await page.waitForSelector('form#consent');
    const terms = await page.locator('input[name="service_terms"]').evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).value));
    assert.deepEqual(terms, ['terms_b']);
    await context.close();
  });

  it('Auth.logout calls /v1/user/logout and forgets the token', async () => {
    const { app, person, context, page } = await open();
    const tokens = await h.token(app, person);
    const out = await page.evaluate(async (token) => {
      window.Kakao.Auth.setAccessToken(token);
      const res = await window.Kakao.Auth.logout();
      return { res, token: window.Kakao.Auth.getAccessToken() };
    }, tokens.access_token);
    assert.deepEqual(out, { res: { id: tokens.user_id }, token: null });
    const after = await h.kapi('GET', '/v2/user/me', tokens.access_token);
    assert.equal(after.statusCode, 401);
    await context.close();
  });
});
