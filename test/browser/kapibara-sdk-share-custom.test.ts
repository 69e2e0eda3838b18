import { it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import { forEachStore, type Harness } from '../helpers/harness.js';
import { SEED_SITE, eventually } from '../fixtures/sharing.js';
import { CUSTOM_ARGS, DEFAULT_SAMPLES, TEXT_WITH_CALLBACK_ARGS } from './seed004-samples.js';
import { gif, jpeg, png } from '../fixtures/story.js';
import { assertWebhookCall, consoleBubble, pickAndSend, receiver, sharerPopup } from './sharer.js';
import { sdkShareWorld } from './sdk-share-world.js';

/** Seed 004's custom, scrap, success-callback and image samples with Kapibara's SDK, end to end (sdk-share-world.ts). */

forEachStore('Kapibara SDK sharing end to end: custom, scrap, callback, images (seed 004)', (h: Harness) => {
  const world = sdkShareWorld(h);
  const { site, open, share, stored } = world;
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
    await s.page.waitForFunction(() => (window as any).sent.length === 1, undefined, { polling: 100 });
    const { message } = await stored(s.w, 'group');
    assert.equal(message.template.text, TEXT_WITH_CALLBACK_ARGS.text);
    const calls = await eventually(async () => (world.hook().calls.length === 3 ? world.hook().calls : undefined));
    const types = calls.map((c) => new URLSearchParams(c.body).get('CHAT_TYPE') as 'MemoChat' | 'DirectChat' | 'MultiChat');
    assert.deepEqual([...types].sort(), ['DirectChat', 'MemoChat', 'MultiChat']);
    calls.forEach((c, i) => assertWebhookCall(c, { adminKey: s.w.app.admin_key, args: { key: 'value' }, chatType: types[i], templateId: message.template_id }));
    assert.equal(new Set(calls.map((c) => c.headers['x-kakao-resource-id'])).size, 3, 'a new X-Kakao-Resource-ID per call');
    assert.equal(new Set(calls.map((c) => new URLSearchParams(c.body).get('HASH_CHAT_ID'))).size, 3, 'one chat id hash per chat');
    await s.context.close();
  });

  it('uploadImage, scrapImage and deleteImage (Kakao.Link and Kakao.Share) with real PNG, JPEG and GIF files', async () => {
    const s = await open();
    const files = [
      { name: 'cake.png', mimeType: 'image/png', buffer: await png(640, 360), width: 640, height: 360, ns: 'Link' },
      { name: 'cake.jpg', mimeType: 'image/jpeg', buffer: await jpeg(300, 500), width: 300, height: 500, ns: 'Share' },
      { name: 'cake.gif', mimeType: 'image/gif', buffer: await gif(120, 90), width: 120, height: 90, ns: 'Link' },
    ];
    const dn = new RegExp(`^${world.kapibara().replace(/\./g, '\\.')}/_kapibara/sharing/dn/[0-9A-Za-z]{24}/kakaolink40_original\\.(png|jpg|gif)$`);
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
    const { page, bubble } = await consoleBubble(s.context, world.kapibara(), s.w.ryan, s.w.group);
    assert.equal(await bubble.locator('img').first().evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth), 640);
    await page.close();
    await s.context.close();
  });
});
