import { after, before, it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { forEachStore, type Harness } from '../helpers/harness.js';
import { launchChromium } from '../helpers/browser.js';
import { SEED_SITE, SEED_TEMPLATES, eventually, sharingWorld, webhookReceiver } from '../fixtures/sharing.js';
import { assertWebhookCall, consoleBubble, pickAndSend, receiver, sharerPopup, signInOnSharer, webhookParams } from './sharer.js';

/**
 * Kakao Talk sharing in a real browser (Debian's Chromium): an app page shares the way
 * SDK v2 does on a desktop (a popup named `sharer` and a hidden form POSTed into it,
 * products notes §1.4), the person signs in, picks chats, sends; the popup tells the page
 * and closes; the message is in the chats and the console; the webhook reaches a receiver.
 */

/** The app's page: its share button does what Kakao.Share.sendDefault does on a desktop. */
function appPage(kapibara: string, jsKey: string, template: object, lcba?: object): string {
  const fields: Record<string, string> = {
    app_key: jsKey,
    ka: 'sdk/2.7.2 os/javascript sdk_type/javascript lang/en-US device/Linux_x86_64 origin/ORIGIN',
    validation_action: 'default',
    validation_params: JSON.stringify({ link_ver: '4.0', template_object: template }),
  };
  if (lcba) fields.lcba = JSON.stringify(lcba);
  return `<!doctype html><html><body><button id="share">Share</button><p id="status">idle</p>
<script>
var KAPIBARA = ${JSON.stringify(kapibara)};
var FIELDS = ${JSON.stringify(fields)};
window.sentMessages = [];
window.addEventListener('message', function (e) {
  if (e.origin === KAPIBARA && e.data === 'sent') { window.sentMessages.push(e.data); document.getElementById('status').textContent = 'sent'; }
});
document.getElementById('share').addEventListener('click', function () {
  window.open('', 'sharer', 'location=no,resizable=no,status=no,scrollbars=no,width=460,height=608');
  var form = document.createElement('form');
  form.method = 'post'; form.action = KAPIBARA + '/picker/link'; form.target = 'sharer'; form.acceptCharset = 'utf-8';
  Object.keys(FIELDS).forEach(function (k) {
    var input = document.createElement('input'); input.type = 'hidden'; input.name = k;
    input.value = FIELDS[k].replace('origin/ORIGIN', 'origin/' + encodeURIComponent(location.origin)); form.appendChild(input);
  });
  document.body.appendChild(form); form.submit(); form.remove();
});
</script></body></html>`;
}

class AppSite {
  server!: http.Server;
  origin = '';
  html = '';
  async start() {
    this.server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(this.html));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop() {
    return new Promise<void>((r) => {
      this.server.closeAllConnections();
      this.server.close(() => r());
    });
  }
}

const SHOTS = process.env.KAPIBARA_DOCS_SCREENSHOTS ? 'docs' : '/tmp/kapibara-sharing-shots';

forEachStore('Kakao Talk sharing in Chromium', (h: Harness) => {
  let browser: Browser;
  let kapibara: string;
  const site = new AppSite();
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
    kapibara = await h.listen();
    await site.start();
    hook = await webhookReceiver();
  });
  after(async () => {
    await browser?.close();
    await site.stop();
    await hook?.close();
  });

  async function share(page: Page, viewport: { width: number; height: number }): Promise<Page> {
    const popup = await sharerPopup(page, () => page.click('#share'));
    await popup.setViewportSize(viewport);
    return popup;
  }

  it('SDK v2 hidden form → sign in → pick a friend, a group chat and me → sent; opener told; console bubble; webhook received', async () => {
    const w = await sharingWorld(h, { web_domains: [site.origin, SEED_SITE] });
    await h.control('PUT', `/apps/${w.app.id}/sharing_webhook`, { url: `${hook.origin}/shared`, method: 'POST' });
    hook.calls.length = 0;
    // The feed's picture is uploaded to Kapibara first (Kakao.Share.uploadImage), so the bubble shows it offline.
    const picture = await sharp({ create: { width: 640, height: 360, channels: 3, background: '#f4c27a' } })
      .composite([{ input: Buffer.from('<svg width="640" height="360"><circle cx="320" cy="190" r="120" fill="#8b4a2b"/><circle cx="320" cy="170" r="95" fill="#fff3e0"/></svg>'), top: 0, left: 0 }])
      .png()
      .toBuffer();
    const upload = new FormData();
    upload.append('file', new Blob([picture], { type: 'image/png' }), 'cake.png');
    const uploaded = await fetch(`${kapibara}/v2/api/talk/message/image/upload`, { method: 'POST', headers: { authorization: `KakaoAK ${w.app.javascript_key}` }, body: upload });
    assert.equal(uploaded.status, 200);
    const imageUrl = ((await uploaded.json()) as { infos: { original: { url: string } } }).infos.original.url;
    assert.ok(imageUrl.startsWith(`${kapibara}/`), imageUrl);
    const feed = { ...SEED_TEMPLATES.feed, content: { ...SEED_TEMPLATES.feed.content, image_url: imageUrl } };
    site.html = appPage(kapibara, w.app.javascript_key, feed, { product: 'cake-42' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(site.origin);
    const popup = await share(page, { width: 460, height: 608 });

    // Not signed in: Kakao's login page, then back to the picker.
    await signInOnSharer(popup, w.sender);
    await popup.waitForSelector('#picker');
    assert.equal(await popup.textContent('#signed-in-as'), 'Muzi');
    assert.match((await popup.textContent('#preview')) ?? '', /Dessert pictures[\s\S]*Americano, bread, cake/);
    assert.equal(await popup.isDisabled('#send'), true, 'nothing picked: Send is off');
    await popup.screenshot({ path: `${SHOTS}/sharing-picker-desktop.png` });

    // Search narrows the list; several chats can be picked.
    await popup.fill('#q', 'ry');
    assert.equal(await popup.isVisible(`[data-receiver="f${w.ryan.id}"]`), true);
    assert.equal(await popup.isVisible(`[data-receiver="f${w.apeach.id}"]`), false);
    await popup.fill('#q', '');
    await pickAndSend(popup, [receiver.friend(w.ryan), receiver.group(w.group), receiver.me]);

    // The opener heard 'sent' from the sharer's origin.
    await page.waitForFunction(() => (window as unknown as { sentMessages: string[] }).sentMessages.length === 1, undefined, { polling: 100 });
    assert.equal(await page.textContent('#status'), 'sent');

    // Stored: one message per chat, with its type.
    const chats = await h.control('GET', `/accounts/${w.sender.id}/chats`);
    assert.deepEqual(chats.chats.map((c: { type: string }) => c.type).sort(), ['direct', 'group', 'memo']);
    const group = await h.control('GET', `/group_chats/${w.group.id}/messages`);
    assert.equal(group.messages[0].template.content.title, 'Dessert pictures');

    // The webhook reached the receiver with the documented headers and parameters.
    const calls = await eventually(async () => (hook.calls.length === 3 ? hook.calls : undefined));
    for (const c of calls) {
      const chatType = webhookParams(c).get('CHAT_TYPE') as 'MemoChat' | 'DirectChat' | 'MultiChat';
      assertWebhookCall(c, { adminKey: w.app.admin_key, args: { product: 'cake-42' }, chatType, templateId: group.messages[0].template_id });
    }
    assert.deepEqual(calls.map((c) => webhookParams(c).get('CHAT_TYPE')).sort(), ['DirectChat', 'MemoChat', 'MultiChat']);

    // The console shows Ryan's view of the group chat with the rendered bubble.
    const { page: consolePage, heading, bubble } = await consoleBubble(context, kapibara, w.ryan, w.group);
    assert.match((await heading.textContent()) ?? '', /Dessert club \(group chat\)/);
    assert.match((await bubble.textContent()) ?? '', /Dessert pictures[\s\S]*View on Web/);
    assert.equal(await bubble.locator('img').evaluate((img) => (img as HTMLImageElement).naturalWidth), 640, 'the uploaded picture is shown');
    await consolePage.locator('section', { has: heading }).screenshot({ path: `${SHOTS}/sharing-console-group-chat.png` });
    await context.close();
  });

  it('on a phone-sized viewport the picker fits the screen, and a signed-in person goes straight to it', async () => {
    const w = await sharingWorld(h, { web_domains: [site.origin, SEED_SITE] });
    site.html = appPage(kapibara, w.app.javascript_key, SEED_TEMPLATES.commerce);
    const context = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(site.origin);
    let popup = await share(page, { width: 375, height: 667 });
    await signInOnSharer(popup, w.sender);
    await popup.waitForSelector('#picker');
    const fits = await popup.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.equal(fits, true, 'no sideways scrolling');
    const send = await popup.locator('#send').boundingBox();
    assert.ok(send && send.y + send.height <= 667 && send.x + send.width <= 375, 'Send is on screen');
    await popup.screenshot({ path: `${SHOTS}/sharing-picker-phone.png` });
    await pickAndSend(popup, [receiver.friend(w.apeach)]);

    // Signed in now: the next share opens the picker at once.
    popup = await share(page, { width: 375, height: 667 });
    await pickAndSend(popup, [receiver.me]);
    await page.waitForFunction(() => (window as unknown as { sentMessages: string[] }).sentMessages.length === 2, undefined, { polling: 100 });
    const apeach = await h.control('GET', `/accounts/${w.apeach.id}/chats/${w.sender.id}/messages`);
    assert.equal(apeach.messages[0].template.commerce.product_name, 'Kakao Mini');
    await context.close();
  });

  it('a foreign page cannot frame the picker, and a bad template shows the failure page in the popup', async () => {
    const w = await sharingWorld(h, { web_domains: [site.origin] });
    site.html = appPage(kapibara, w.app.javascript_key, { object_type: 'feed' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(site.origin);
    const popup = await share(page, { width: 460, height: 608 });
    await popup.waitForSelector('#error-code');
    assert.equal(await popup.textContent('#error-code'), '-2');
    assert.equal(await popup.textContent('#error-msg'), 'template_object.content is required.');
    // Framed by the app's page: the browser refuses to show it.
    await page.setContent(`<iframe id="f" src="${kapibara}/picker/failed"></iframe>`);
    const frame = await (await page.$('#f'))!.contentFrame();
    const framedText = await frame!.evaluate(() => document.body?.innerText ?? '').catch(() => '');
    assert.ok(!framedText.includes('Failed request'), 'the sharer page does not render in a frame');
    await context.close();
  });
});
