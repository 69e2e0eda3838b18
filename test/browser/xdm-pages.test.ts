import { it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import { forEachStore, type Harness } from '../helpers/harness.js';
import type { Page } from 'playwright-core';
import { browserAndSite } from './sdk-pages.js';

/**
 * The pages Kakao's SDK v1 frames (kapi /cors/, kauth's login widget; src/products/sdk/xdm.ts),
 * framed by an app's page on another origin, without the SDK: what the page hears from them.
 */

forEachStore('SDK v1 framed pages in Chromium', (h: Harness) => {
  const world = browserAndSite(h);

  /** A fresh browser context's page at `origin`/page (the test site's), closed after `run`. */
  async function onPage(origin: string, run: (page: Page) => Promise<void>): Promise<void> {
    const context = await world.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/page`);
      await run(page);
    } finally {
      await context.close();
    }
  }

  it('the framed pages say <channel>-ready as their script runs and once loaded; the login widget again before it relays a result', async () => {
    const { site, kapibara } = world;
    site.sdkSrc = `${kapibara}/sdk/js/kakao.js`;
    await h.createApp({ web_domains: [site.origin] });
    await onPage(site.origin, async (page) => {
      // What the app's page hears from a frame, in order (SDK v1 reads nothing before a ready).
      const frameAndListen = (src: string, channel: string) =>
        page.evaluate(
          ({ src, channel }) => {
            const heard: string[] = [];
            (window as unknown as Record<string, string[]>)[channel] = heard;
            window.addEventListener('message', (e) => {
              if (typeof e.data === 'string' && e.data.startsWith(channel)) heard.push(e.data);
            });
            const frame = document.createElement('iframe');
            frame.src = src;
            document.body.append(frame);
          },
          { src, channel },
        );
      const heard = (channel: string, count: number) =>
        page.waitForFunction(({ channel, count }) => ((window as unknown as Record<string, string[]>)[channel] ?? []).length >= count, { channel, count }).then(() =>
          page.evaluate((channel) => (window as unknown as Record<string, string[]>)[channel], channel),
        );
      const xdm = (channel: string) => `xdm_e=${encodeURIComponent(site.origin)}&xdm_c=${channel}&xdm_p=1`;

      await frameAndListen(`${kapibara}/cors/?${xdm('proxy1')}`, 'proxy1');
      assert.deepEqual(await heard('proxy1', 2), ['proxy1-ready', 'proxy1-ready']);

      await frameAndListen(`${kapibara}/public/widget/login/kakaoLoginWidget.html?${xdm('widget1')}`, 'widget1');
      assert.deepEqual(await heard('widget1', 2), ['widget1-ready', 'widget1-ready']);
      const widget = page.frames().find((f) => f.url().includes('xdm_c=widget1'));
      assert.ok(widget, 'the widget is framed');
      // What the login popup's page calls when it ends on redirect_uri=kakaojs.
      await widget.evaluate(() => (window as unknown as { postResponse(r: object): void }).postResponse({ access_token: 'relayed' }));
      const relayed = await heard('widget1', 4);
      assert.equal(relayed[2], 'widget1-ready');
      assert.deepEqual(JSON.parse(relayed[3].slice('widget1 '.length)), { method: 'postResponse', params: [{ access_token: 'relayed' }], jsonrpc: '2.0' });
    });
  });

  it("/cors/ runs only Kakao API paths for the framing page: not the control plane, the console or the login pages (a page on any app's web domain read every app's keys through it)", async () => {
    const { site, kapibara } = world;
    site.sdkSrc = `${kapibara}/sdk/js/kakao.js`;
    await h.createApp({ web_domains: [site.origin] });
    await onPage(site.origin, async (page) => {
      // easyXDM's protocol spoken directly, as a hostile page would: wait for ready, call request.
      const ask = (urls: string[]) =>
        page.evaluate(
          ({ src, urls }) =>
            new Promise<unknown[]>((done) => {
              const answers: unknown[] = [];
              const frame = document.createElement('iframe');
              window.addEventListener('message', (e) => {
                if (e.data === 'evil-ready' && answers.length === 0 && !(window as unknown as { asked?: boolean }).asked) {
                  (window as unknown as { asked?: boolean }).asked = true;
                  urls.forEach((url, id) => frame.contentWindow!.postMessage(`evil ${JSON.stringify({ jsonrpc: '2.0', id, method: 'request', params: [{ url, method: 'GET' }] })}`, '*'));
                } else if (typeof e.data === 'string' && e.data.startsWith('evil {')) {
                  answers.push(JSON.parse(e.data.slice(5)));
                  if (answers.length === urls.length) done(answers);
                }
              });
              frame.src = src;
              document.body.append(frame);
            }),
          { src: `${kapibara}/cors/?xdm_e=${encodeURIComponent(site.origin)}&xdm_c=evil&xdm_p=1`, urls },
        );
      const refused = [
        '/_kapibara/v1/apps',
        '/_kapibara/console',
        '/v1/../_kapibara/v1/apps',
        '/v2/./../_kapibara/v1/accounts',
        '/v2/%2e%2e/_kapibara/v1/apps',
        '/oauth/authorize?client_id=x&redirect_uri=kakaojs&response_type=code',
        '/login',
      ];
      const answers = (await ask([...refused, '/v2/user/me'])) as { id: number; result?: unknown; error?: { message: { status: number; responseText: string } } }[];
      for (const answer of answers.filter((a) => a.id < refused.length)) {
        assert.equal(answer.error?.message.status, 400, `${refused[answer.id]}: ${JSON.stringify(answer)}`);
        assert.match(answer.error!.message.responseText, /only Kakao API paths/);
      }
      // A Kakao API path still goes through (no token: the API's own -401).
      const me = answers.find((a) => a.id === refused.length)!;
      assert.equal(me.error?.message.status, 401, JSON.stringify(me));
      assert.equal(JSON.parse(me.error!.message.responseText).code, -401);
    });
  });

  it("/cors/ framed by a page on no app's web domain: JavaScript-key calls are judged by that page's real origin, whatever KA the page sends (-401)", async () => {
    const { site, kapibara } = world;
    const app = await h.createApp({ web_domains: [site.origin] });
    // The same site on another origin (localhost, not 127.0.0.1), which no app registered.
    const stranger = site.origin.replace('127.0.0.1', 'localhost');
    await onPage(stranger, async (page) => {
      type Answer = { id: number; result?: unknown; error?: { message: { status: number; responseText: string } } };
      const configs = [
        // No KA at all: the proxy still writes the page's origin.
        { url: '/v2/api/talk/message/image/scrap', method: 'POST', headers: { Authorization: `KakaoAK ${app.javascript_key}` }, data: { image_url: `${site.origin}/img/a.png` } },
        // A KA naming the registered origin: replaced by the page's real one.
        {
          url: '/v2/api/kakaolink/talk/template/default',
          method: 'GET',
          headers: { Authorization: `KakaoAK ${app.javascript_key}`, KA: `sdk/1.39.14 os/javascript origin/${encodeURIComponent(site.origin)}` },
          data: { link_ver: '4.0', template_object: JSON.stringify({ object_type: 'text', text: 'hi', link: {} }) },
        },
      ];
      const answers = (await page.evaluate(
        ({ src, configs }) =>
          new Promise<unknown[]>((done) => {
            const answers: unknown[] = [];
            const frame = document.createElement('iframe');
            let asked = false;
            window.addEventListener('message', (e) => {
              if (e.data === 'far-ready' && !asked) {
                asked = true;
                configs.forEach((config, id) => frame.contentWindow!.postMessage(`far ${JSON.stringify({ jsonrpc: '2.0', id, method: 'request', params: [config] })}`, '*'));
              } else if (typeof e.data === 'string' && e.data.startsWith('far {')) {
                answers.push(JSON.parse(e.data.slice(4)));
                if (answers.length === configs.length) done(answers);
              }
            });
            frame.src = src;
            document.body.append(frame);
          }),
        { src: `${kapibara}/cors/?xdm_e=${encodeURIComponent(stranger)}&xdm_c=far&xdm_p=1`, configs },
      )) as Answer[];
      assert.equal(answers.length, configs.length);
      for (const answer of answers) {
        assert.equal(answer.error?.message.status, 401, JSON.stringify(answer));
        assert.deepEqual(JSON.parse(answer.error!.message.responseText), { msg: `domain mismatched! caller=${stranger}. check out registered web domains.`, code: -401 });
      }
    });
  });
});
