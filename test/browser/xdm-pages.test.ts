import { it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore, type Harness } from '../helpers/harness.js';
import { browserAndSite } from './sdk-pages.js';

/**
 * The pages Kakao's SDK v1 frames (kapi /cors/, kauth's login widget; src/products/sdk/xdm.ts),
 * framed by an app's page on another origin, without the SDK: what the page hears from them.
 */

forEachStore('SDK v1 framed pages in Chromium', (h: Harness) => {
  const world = browserAndSite(h);

  it('the framed pages say <channel>-ready as their script runs and once loaded; the login widget again before it relays a result', async () => {
    const { site, kapibara } = world;
    site.sdkSrc = `${kapibara}/sdk/js/kakao.js`;
    await h.createApp({ web_domains: [site.origin] });
    const context = await world.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${site.origin}/page`);
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
    } finally {
      await context.close();
    }
  });
});
