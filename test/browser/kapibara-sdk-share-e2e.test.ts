import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { forEachStore, type Harness, type TestAccount } from '../helpers/harness.js';
import { launchChromium } from '../helpers/browser.js';
import { SEED_SITE, SEED_TEMPLATES, eventually, sharingWorld, webhookReceiver, type SharingWorld } from '../fixtures/sharing.js';
import { AppSite } from './sdk-pages.js';
import { CUSTOM_ARGS, DEFAULT_SAMPLES, TEXT, TEXT_WITH_CALLBACK_ARGS } from './seed004-samples.js';
import { gif, jpeg, png } from '../fixtures/story.js';
import { assertWebhookCall, consoleBubble, pickAndSend, receiver, sharerPopup } from './sharer.js';

/**
 * Every JavaScript sample of seed 004, shared end to end with Kapibara's SDK
 * (/sdk/js/kakao.js): the page calls Kakao.Link.* as the seed shows (with a `callback` and
 * `serverCallbackArgs` naming the sample), the sharer popup opens, the person signs in the
 * first time, picks "me", a friend or a group chat and sends. Then: the message is stored in
 * that chat (control plane), its bubble is drawn in the console, the page's callback ran
 * (the sharer's postMessage 'sent'), and the app's success webhook reached a real local
 * receiver with the documented headers and parameters.
 *
 * Two departures from the seed's text, both forced: the scrap samples scrape the app's own
 * page (the seed's https://developers.kakao.com is not reachable offline), and the text
 * sample's text is longer than the 200 characters the text template allows, so as written it
 * ends on the sharer's failure page (asserted) and is shared cut to 200 characters.
 */

type Chat = 'me' | 'friend' | 'group';
const CHAT_TYPE = { me: 'MemoChat', friend: 'DirectChat', group: 'MultiChat' } as const;

forEachStore('Kapibara SDK sharing end to end (seed 004 samples)', (h: Harness) => {
  let browser: Browser;
  let kapibara = '';
  const site = new AppSite();
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;

  before(async () => {
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

  interface Session {
    w: SharingWorld;
    context: BrowserContext;
    page: Page;
    signedIn: boolean;
    sent: number;
  }

  async function open(): Promise<Session> {
    site.sdkSrc = `${kapibara}/sdk/js/kakao.js`;
    const w = await sharingWorld(h, { web_domains: [site.origin, SEED_SITE] });
    await h.control('PUT', `/apps/${w.app.id}/sharing_webhook`, { url: `${hook.origin}/kakao/shared`, method: 'POST' });
    hook.calls.length = 0;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${site.origin}/page`);
    await page.evaluate((key) => {
      (window as any).sent = [];
      window.Kakao.init(key);
    }, w.app.javascript_key);
    return { w, context, page, signedIn: false, sent: 0 };
  }

  /** Calls `Kakao.<ns>.<fn>(sample + callback + serverCallbackArgs)`, or makes the button and clicks it. */
  async function call(s: Session, ns: 'Link' | 'Share', fn: string, sample: object, label: string): Promise<Page> {
    const button = fn.startsWith('create');
    return sharerPopup(s.page, async () => {
      await s.page.evaluate(
        ([n, f, settings, l, isButton]) => {
          const withCallback = { ...(settings as object), callback: () => (window as any).sent.push(l), serverCallbackArgs: { sample: l } };
          if (!isButton) return window.Kakao[n as string][f as string](withCallback);
          const b = document.createElement('button');
          b.id = `share-${l}`;
          document.body.appendChild(b);
          window.Kakao[n as string][f as string]({ container: `#share-${l}`, ...withCallback });
        },
        [ns, fn, sample, label, button] as const,
      );
      if (button) await s.page.click(`#share-${label}`);
    });
  }

  /** The newest message of the chat, as the control plane lists it, and who to look at it as in the console. */
  async function stored(w: SharingWorld, chat: Chat): Promise<{ message: any; viewer: TestAccount; consoleChat: 'memo' | TestAccount | SharingWorld['group'] }> {
    if (chat === 'me') return { message: (await h.control('GET', `/accounts/${w.sender.id}/chats/memo/messages`)).messages[0], viewer: w.sender, consoleChat: 'memo' };
    if (chat === 'friend') return { message: (await h.control('GET', `/accounts/${w.ryan.id}/chats/${w.sender.id}/messages`)).messages[0], viewer: w.ryan, consoleChat: w.sender };
    return { message: (await h.control('GET', `/group_chats/${w.group.id}/messages`)).messages[0], viewer: w.apeach, consoleChat: w.group };
  }

  /** One share of one sample to one chat, and everything that must follow from it. */
  async function share(
    s: Session,
    step: { ns?: 'Link' | 'Share'; fn: string; sample: object; label: string; chat: Chat; template: (t: any) => void; bubble: RegExp },
  ): Promise<void> {
    const popup = await call(s, step.ns ?? 'Link', step.fn, step.sample, step.label);
    const target = step.chat === 'me' ? receiver.me : step.chat === 'friend' ? receiver.friend(s.w.ryan) : receiver.group(s.w.group);
    await pickAndSend(popup, [target], s.signedIn ? {} : { signInAs: s.w.sender });
    s.signedIn = true;

    // The page's callback ran: the sharer told the opener 'sent'.
    s.sent += 1;
    await s.page.waitForFunction((n) => (window as any).sent.length === n, s.sent);
    assert.equal(await s.page.evaluate(() => (window as any).sent.at(-1)), step.label);

    // Stored in the chat, from the sender, through the app.
    const { message, viewer, consoleChat } = await stored(s.w, step.chat);
    assert.equal(message.sender_account_id, s.w.sender.id);
    assert.equal(message.app_id, s.w.app.id);
    step.template(message.template);

    // The bubble a person in that chat sees in the console.
    const { page, bubble } = await consoleBubble(s.context, kapibara, viewer, consoleChat);
    assert.match((await bubble.textContent()) ?? '', step.bubble);
    await page.close();

    // The success webhook, once for the one chat, with the sample's serverCallbackArgs.
    const hookCall = await eventually(async () => hook.calls.find((c) => new URLSearchParams(c.body).get('sample') === step.label));
    assertWebhookCall(hookCall, { adminKey: s.w.app.admin_key, args: { sample: step.label }, chatType: CHAT_TYPE[step.chat], templateId: message.template_id });
  }

  const TEXT_200 = { ...TEXT, text: TEXT.text.slice(0, 200) };
  const defaults = {
    feed: { sample: DEFAULT_SAMPLES.feed, template: (t: any) => assert.deepEqual(t, SEED_TEMPLATES.feed), bubble: /Dessert pictures[\s\S]*Americano, bread, cake[\s\S]*View on Web[\s\S]*View on App/ },
    list: { sample: DEFAULT_SAMPLES.list, template: (t: any) => assert.deepEqual(t, SEED_TEMPLATES.list), bubble: /WEEKLY MAGAZINE[\s\S]*My hobby, Table tennis[\s\S]*Inspiring pictures/ },
    location: { sample: DEFAULT_SAMPLES.location, template: (t: any) => assert.deepEqual(t, SEED_TEMPLATES.location), bubble: /Kakao Pangyo Office Cafe Talk 235, Pangyoyeok-ro[\s\S]*Cherry Blossom Latte/ },
    commerce: { sample: DEFAULT_SAMPLES.commerce, template: (t: any) => assert.deepEqual(t, SEED_TEMPLATES.commerce), bubble: /Kakao Mini 90000원[\s\S]*10%[\s\S]*Purchase/ },
    // A text template gets the platform's default button when it has none.
    text: { sample: TEXT_200, template: (t: any) => assert.deepEqual(t, { ...SEED_TEMPLATES.text, buttons: [{ title: '자세히 보기', link: SEED_TEMPLATES.text.link }] }), bubble: /The Text template provided as a default template/ },
  };
  const chats: Chat[] = ['friend', 'group', 'me'];

  it('createDefaultButton and sendDefault: feed, list, location, commerce and text, each to a friend, a group chat or me', async () => {
    const s = await open();
    let i = 0;
    for (const fn of ['createDefaultButton', 'sendDefault']) {
      for (const [type, d] of Object.entries(defaults)) {
        await share(s, { fn, sample: d.sample, label: `${fn}-${type}`, chat: chats[i++ % 3], template: d.template, bubble: d.bubble });
      }
    }
    assert.equal(hook.calls.length, 10);
    await s.context.close();
  });

  it('sendCustom / createCustomButton with a custom template, sendScrap / createScrapButton with and without a template id', async () => {
    const s = await open();
    await h.control('POST', `/apps/${s.w.app.id}/templates`, {
      id: 4001,
      template: { object_type: 'feed', content: { title: '${title}', description: '${description}', link: { web_url: SEED_SITE } }, buttons: [{ title: 'Open', link: { web_url: SEED_SITE } }] },
    });
    await h.control('POST', `/apps/${s.w.app.id}/templates`, {
      id: 4002,
      template: { object_type: 'feed', content: { title: 'Read: ${SCRAP_TITLE}', description: '${SCRAP_DESCRIPTION}', link: { web_url: '${SCRAP_REQUEST_URL}' } } },
    });
    const custom = (t: any) => {
      assert.equal(t.content.title, CUSTOM_ARGS.title);
      assert.equal(t.content.description, CUSTOM_ARGS.description);
    };
    const customBubble = /This is the title area\.[\s\S]*This is the description area\.[\s\S]*Open/;
    await share(s, { fn: 'createCustomButton', sample: { templateId: 4001, templateArgs: CUSTOM_ARGS }, label: 'createCustomButton', chat: 'group', template: custom, bubble: customBubble });
    await share(s, { fn: 'sendCustom', sample: { templateId: 4001, templateArgs: CUSTOM_ARGS }, label: 'sendCustom', chat: 'me', template: custom, bubble: customBubble });

    const article = `${site.origin}/article`;
    const scrap = (t: any) =>
      assert.deepEqual(t, {
        object_type: 'scrap',
        request_url: article,
        url: article,
        host: new URL(site.origin).host,
        title: 'Capybaras at the hot spring',
        description: 'A long soak',
        buttons: [{ title: '자세히 보기', link: { web_url: article, mobile_web_url: article } }],
      });
    const scrapTemplate = (t: any) => {
      assert.equal(t.content.title, 'Read: Capybaras at the hot spring');
      assert.equal(t.content.link.web_url, article);
    };
    await share(s, { fn: 'createScrapButton', sample: { requestUrl: article }, label: 'createScrapButton', chat: 'friend', template: scrap, bubble: /Capybaras at the hot spring[\s\S]*A long soak[\s\S]*127\.0\.0\.1[\s\S]*자세히 보기/ });
    await share(s, { fn: 'sendScrap', sample: { requestUrl: article }, label: 'sendScrap', chat: 'group', template: scrap, bubble: /Capybaras at the hot spring[\s\S]*A long soak[\s\S]*127\.0\.0\.1[\s\S]*자세히 보기/ });
    await share(s, { fn: 'createScrapButton', sample: { requestUrl: article, templateId: 4002 }, label: 'createScrapButton-template', chat: 'me', template: scrapTemplate, bubble: /Read: Capybaras at the hot spring/ });
    await share(s, { fn: 'sendScrap', sample: { requestUrl: article, templateId: 4002 }, label: 'sendScrap-template', chat: 'friend', template: scrapTemplate, bubble: /Read: Capybaras at the hot spring/ });
    await s.context.close();
  });

  it('the success-callback sample (serverCallbackArgs {key: "value"}) through Kakao.Share to three chats: one webhook call per chat', async () => {
    const s = await open();
    const popup = await sharerPopup(s.page, () =>
      s.page.evaluate((sample) => window.Kakao.Share.sendDefault({ ...sample, callback: () => (window as any).sent.push('callback') }), TEXT_WITH_CALLBACK_ARGS),
    );
    await pickAndSend(popup, [receiver.me, receiver.friend(s.w.ryan), receiver.group(s.w.group)], { signInAs: s.w.sender });
    await s.page.waitForFunction(() => (window as any).sent.length === 1);
    const { message } = await stored(s.w, 'group');
    assert.equal(message.template.text, TEXT_WITH_CALLBACK_ARGS.text);
    const calls = await eventually(async () => (hook.calls.length === 3 ? hook.calls : undefined));
    const types = calls.map((c) => new URLSearchParams(c.body).get('CHAT_TYPE') as 'MemoChat' | 'DirectChat' | 'MultiChat');
    assert.deepEqual([...types].sort(), ['DirectChat', 'MemoChat', 'MultiChat']);
    calls.forEach((c, i) => assertWebhookCall(c, { adminKey: s.w.app.admin_key, args: { key: 'value' }, chatType: types[i], templateId: message.template_id }));
    assert.equal(new Set(calls.map((c) => c.headers['x-kakao-resource-id'])).size, 3, 'a new X-Kakao-Resource-ID per call');
    assert.equal(new Set(calls.map((c) => new URLSearchParams(c.body).get('HASH_CHAT_ID'))).size, 3, 'one chat id hash per chat');
    await s.context.close();
  });

  it('the text sample as the seed writes it (over 200 characters) ends on the failure page; nothing is sent', async () => {
    const s = await open();
    const popup = await sharerPopup(s.page, () => s.page.evaluate((sample) => window.Kakao.Link.sendDefault(sample), TEXT));
    await popup.waitForSelector('#error-code');
    assert.equal(await popup.textContent('#error-code'), '-2');
    assert.equal(await popup.textContent('#error-msg'), 'invalid template_object.text: must be at most 200 characters.');
    assert.equal((await h.control('GET', `/accounts/${s.w.sender.id}/chats`)).chats.length, 0);
    await s.context.close();
  });

  it('uploadImage, scrapImage and deleteImage (Kakao.Link and Kakao.Share) with real PNG, JPEG and GIF files', async () => {
    const s = await open();
    const files = [
      { name: 'cake.png', mimeType: 'image/png', buffer: await png(640, 360), width: 640, height: 360, ns: 'Link' },
      { name: 'cake.jpg', mimeType: 'image/jpeg', buffer: await jpeg(300, 500), width: 300, height: 500, ns: 'Share' },
      { name: 'cake.gif', mimeType: 'image/gif', buffer: await gif(120, 90), width: 120, height: 90, ns: 'Link' },
    ];
    const dn = new RegExp(`^${kapibara.replace(/\./g, '\\.')}/_kapibara/sharing/dn/[0-9A-Za-z]{24}/kakaolink40_original\\.(png|jpg|gif)$`);
    const uploaded: string[] = [];
    for (const f of files) {
      // The seed's sample: the files of an <input type=file>.
      await s.page.setInputFiles('#file', [{ name: f.name, mimeType: f.mimeType, buffer: f.buffer }]);
      const res = await s.page.evaluate((ns) => window.Kakao[ns].uploadImage({ file: (document.getElementById('file') as HTMLInputElement).files }), f.ns);
      assert.match(res.infos.original.url, dn);
      assert.deepEqual(res, { infos: { original: { url: res.infos.original.url, content_type: f.mimeType, length: f.buffer.length, width: f.width, height: f.height } } });
      const back = await fetch(res.infos.original.url);
      assert.equal(back.status, 200);
      assert.deepEqual(Buffer.from(await back.arrayBuffer()), f.buffer);
      uploaded.push(res.infos.original.url);
    }

    // scrapImage: a picture on the app's own site, fetched by Kapibara.
    const picture = await jpeg(800, 400);
    site.images.set('bread.jpg', { type: 'image/jpeg', body: picture });
    const scrapped = await s.page.evaluate((url) => window.Kakao.Link.scrapImage({ imageUrl: url }), `${site.origin}/img/bread.jpg`);
    assert.match(scrapped.infos.original.url, dn);
    assert.deepEqual(scrapped.infos.original, { url: scrapped.infos.original.url, content_type: 'image/jpeg', length: picture.length, width: 800, height: 400 });
    // A page off the app's web domains is refused with kapi's error body.
    const refused = await s.page.evaluate(() => window.Kakao.Share.scrapImage({ imageUrl: 'https://elsewhere.example/cake.png' }).catch((e: unknown) => e));
    assert.equal(refused.code, -2);

    // deleteImage (a DELETE through CORS): the file is gone, a second delete fails.
    for (const [i, url] of [...uploaded, scrapped.infos.original.url].entries()) {
      const deleted = await s.page.evaluate(([ns, u]) => window.Kakao[ns as string].deleteImage({ imageUrl: u }), [i % 2 ? 'Share' : 'Link', url] as const);
      assert.deepEqual(deleted, {});
      assert.equal((await fetch(url)).status, 404);
    }
    const again = await s.page.evaluate((u) => window.Kakao.Link.deleteImage({ imageUrl: u }).catch((e: unknown) => e), uploaded[0]);
    assert.equal(again.code, -2);

    // An uploaded picture in a shared feed: the console bubble shows it.
    await s.page.setInputFiles('#file', [{ name: 'cake.png', mimeType: 'image/png', buffer: files[0].buffer }]);
    const cake = await s.page.evaluate(() => window.Kakao.Share.uploadImage({ file: (document.getElementById('file') as HTMLInputElement).files }));
    const feed = { ...DEFAULT_SAMPLES.feed, content: { ...DEFAULT_SAMPLES.feed.content, imageUrl: cake.infos.original.url } };
    await share(s, {
      fn: 'sendDefault',
      sample: feed,
      label: 'uploaded-picture',
      chat: 'group',
      template: (t: any) => assert.equal(t.content.image_url, cake.infos.original.url),
      bubble: /Dessert pictures/,
    });
    const { page, bubble } = await consoleBubble(s.context, kapibara, s.w.ryan, s.w.group);
    assert.equal(await bubble.locator('img').first().evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth), 640);
    await page.close();
    await s.context.close();
  });
});
