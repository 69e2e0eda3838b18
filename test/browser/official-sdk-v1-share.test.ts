import { after, before, it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { forEachStore, type Harness } from '../helpers/harness.js';
import { listenTls, type TlsListener } from '../../src/core/tls.js';
import { SEED_SITE, SEED_TEMPLATES, eventually, sharingWorld, webhookReceiver, type SharingWorld } from '../fixtures/sharing.js';
import { gif, png } from '../fixtures/story.js';
import { AppSite, assertOfficialSdk, mappedChromium } from './sdk-pages.js';
import { CUSTOM_ARGS, FEED, v1Names } from './seed004-samples.js';
import { assertWebhookCall, consoleBubble, pickAndSend, receiver, sharerPopup } from './sharer.js';

/**
 * Kakao Talk sharing with Kakao's official JavaScript SDK v1.39.14, loaded unmodified, with
 * kauth, kapi and sharer.kakao.com mapped to Kapibara's TLS listener (different hosts: the
 * person signs in on the sharer host itself). On a desktop v1 opens
 * https://sharer.kakao.com/talk/friends/picker/easylink?… in a popup named
 * kakao_link_web_sharer (or posts a form to /talk/friends/picker/link when that URL would pass
 * 2084 characters), and its `callback` listens for 'sent' from https://sharer.kakao.com.
 * Seed samples with fields v1 refuses run with v1's names (v1Names: no itemContent,
 * androidExecParams).
 */

forEachStore('Official SDK v1.39.14 sharing in Chromium, host-mapped', (h: Harness) => {
  let browser: Browser;
  let tls: TlsListener;
  const site = new AppSite();
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  let kapibara = '';

  before(async () => {
    assertOfficialSdk();
    kapibara = await h.listen();
    tls = await listenTls(h.app, { port: 0 });
    browser = await mappedChromium(tls);
    await site.start();
    site.sdkSrc = '/kakao-1.39.14.js';
    hook = await webhookReceiver();
  });
  after(async () => {
    await browser?.close();
    await tls?.close();
    await site.stop();
    await hook?.close();
  });

  async function open(): Promise<{ w: SharingWorld; context: BrowserContext; page: Page }> {
    const w = await sharingWorld(h, { web_domains: [site.origin, SEED_SITE] });
    await h.control('PUT', `/apps/${w.app.id}/sharing_webhook`, { url: `${hook.origin}/kakao/shared`, method: 'GET' });
    hook.calls.length = 0;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${site.origin}/page`);
    await page.evaluate((key) => {
      (window as any).sent = [];
      window.Kakao.init(key);
    }, w.app.javascript_key);
    return { w, context, page };
  }

  /** Kakao.Link.<fn>(settings + callback + serverCallbackArgs) on the page; returns the sharer popup. */
  function v1Share(page: Page, fn: string, settings: object, label: string): Promise<Page> {
    return sharerPopup(page, () =>
      page.evaluate(
        ([f, s, l]) => window.Kakao.Link[f as string]({ ...(s as object), callback: () => (window as any).sent.push(l), serverCallbackArgs: { sample: l } }),
        [fn, settings, label] as const,
      ),
    );
  }

  it('Link.sendDefault (feed, v1 names), sendCustom and sendScrap through sharer.kakao.com: sign in there, pick, sent; callback; stored; webhook', async () => {
    const { w, context, page } = await open();
    await h.control('POST', `/apps/${w.app.id}/templates`, {
      id: 4101,
      template: { object_type: 'feed', content: { title: '${title}', description: '${description}', link: { web_url: SEED_SITE } } },
    });
    const article = `${site.origin}/article`;
    const steps = [
      { fn: 'sendDefault', settings: v1Names(FEED), label: 'v1-feed', chat: 'friend' as const },
      { fn: 'sendCustom', settings: { templateId: 4101, templateArgs: CUSTOM_ARGS }, label: 'v1-custom', chat: 'group' as const },
      { fn: 'sendScrap', settings: { requestUrl: article }, label: 'v1-scrap', chat: 'me' as const },
    ];
    let first = true;
    for (const [i, step] of steps.entries()) {
      const popup = await v1Share(page, step.fn, step.settings, step.label);
      await popup.waitForLoadState();
      const opened = new URL(popup.url());
      assert.equal(opened.origin, 'https://sharer.kakao.com');
      if (first) {
        // Not signed in on the sharer host: Kakao's login page there, then back to the picker.
        assert.equal(opened.pathname, '/login');
        assert.match(opened.searchParams.get('continue') ?? '', /^\/picker\/link\?short_key=/);
      } else {
        assert.match(opened.pathname, /^\/(talk\/friends\/picker\/(easylink|link)|picker\/link)$/);
      }
      const target = step.chat === 'me' ? receiver.me : step.chat === 'friend' ? receiver.friend(w.ryan) : receiver.group(w.group);
      await pickAndSend(popup, [target], first ? { signInAs: w.sender } : {});
      first = false;
      // v1's callback: 'sent' from https://sharer.kakao.com. v1 listens until a once-a-second
      // check sees its popup closed, so when this share followed the last one within that
      // second, the last one's callback ran again, before this one's (as against Kakao).
      await page.waitForFunction((label) => (window as any).sent.at(-1) === label, step.label, { polling: 100 });
      const sent: string[] = await page.evaluate(() => (window as any).sent);
      assert.deepEqual([...new Set(sent)], steps.slice(0, i + 1).map((s) => s.label), JSON.stringify(sent));
      assert.equal(sent.filter((l) => l === step.label).length, 1);
    }

    const direct = (await h.control('GET', `/accounts/${w.ryan.id}/chats/${w.sender.id}/messages`)).messages[0];
    const { item_content: _v1HasNone, ...feed } = SEED_TEMPLATES.feed;
    assert.deepEqual(direct.template, feed);
    const group = (await h.control('GET', `/group_chats/${w.group.id}/messages`)).messages[0];
    assert.equal(group.template.content.title, CUSTOM_ARGS.title);
    assert.equal(group.template_id, 4101);
    const memo = (await h.control('GET', `/accounts/${w.sender.id}/chats/memo/messages`)).messages[0];
    assert.equal(memo.template.object_type, 'scrap');
    assert.equal(memo.template.title, 'Capybaras at the hot spring');

    const { page: consolePage, bubble } = await consoleBubble(context, kapibara, w.apeach, w.group);
    assert.match((await bubble.textContent()) ?? '', /This is the title area\.[\s\S]*This is the description area\./);
    await consolePage.close();

    // The success webhook (GET): the v1 form's lcba reached the receiver.
    const calls = await eventually(async () => (hook.calls.length === 3 ? hook.calls : undefined));
    const byLabel = (l: string) => calls.find((c) => new URL(c.url, 'http://r').searchParams.get('sample') === l)!;
    assertWebhookCall(byLabel('v1-feed'), { adminKey: w.app.admin_key, args: { sample: 'v1-feed' }, chatType: 'DirectChat', templateId: direct.template_id });
    assertWebhookCall(byLabel('v1-custom'), { adminKey: w.app.admin_key, args: { sample: 'v1-custom' }, chatType: 'MultiChat', templateId: 4101 });
    assertWebhookCall(byLabel('v1-scrap'), { adminKey: w.app.admin_key, args: { sample: 'v1-scrap' }, chatType: 'MemoChat', templateId: memo.template_id });
    await context.close();
  });

  it('Link.uploadImage through kapi /cors/ (PNG and GIF), and deleteImage removes the file', async () => {
    const { context, page } = await open();
    const dn = /^https:\/\/kapi\.kakao\.com\/_kapibara\/sharing\/dn\/[0-9A-Za-z]{24}\/kakaolink40_original\.(png|gif)$/;
    for (const f of [
      { name: 'cake.png', mimeType: 'image/png', buffer: await png(320, 200), width: 320, height: 200 },
      { name: 'cake.gif', mimeType: 'image/gif', buffer: await gif(64, 48), width: 64, height: 48 },
    ]) {
      await page.setInputFiles('#file', [{ name: f.name, mimeType: f.mimeType, buffer: f.buffer }]);
      const res = await page.evaluate(() => window.Kakao.Link.uploadImage({ file: (document.getElementById('file') as HTMLInputElement).files }));
      assert.match(res.infos.original.url, dn);
      assert.deepEqual(res.infos.original, { url: res.infos.original.url, content_type: f.mimeType, length: f.buffer.length, width: f.width, height: f.height });
      const path = new URL(res.infos.original.url).pathname;
      const served = await h.inject({ method: 'GET', url: path });
      assert.equal(served.statusCode, 200);
      assert.deepEqual(served.rawPayload, f.buffer);
      assert.deepEqual(await page.evaluate((u) => window.Kakao.Link.deleteImage({ imageUrl: u }), res.infos.original.url), {});
      assert.equal((await h.inject({ method: 'GET', url: path })).statusCode, 404);
    }
    await context.close();
  });
});
