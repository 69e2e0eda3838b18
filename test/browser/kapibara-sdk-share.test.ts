import { after, before, it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { forEachStore, type Harness, type TestApp } from '../helpers/harness.js';
import { launchChromium } from '../helpers/browser.js';
import { AppSite } from './sdk-pages.js';
import { CUSTOM_ARGS, DEFAULT_SAMPLES, FEED, FEED_TEMPLATE_OBJECT, TEXT, TEXT_WITH_CALLBACK_ARGS, v1Names } from './seed004-samples.js';

/**
 * Kapibara's SDK opens the sharer as SDK v2 does on a desktop: a popup named `sharer` and a
 * hidden form POSTed into it at /picker/link with app_key, ka, validation_action,
 * validation_params and lcba. Each seed 004 sample, with v2 and v1 field names.
 */

forEachStore('Kapibara SDK sharing (sharer form)', (h: Harness) => {
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

  async function open(): Promise<{ app: TestApp; context: BrowserContext; page: Page }> {
    site.sdkSrc = `${kapibara}/sdk/js/kakao.js`;
    const app = await h.createApp({ name: 'Share Shop', web_domains: [site.origin, 'https://developers.kakao.com'] });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${site.origin}/page`);
    await page.evaluate((key) => {
      // Records the windows the SDK opens (a window's name is not kept across origins).
      const open = window.open.bind(window);
      (window as any).opened = [];
      window.open = (...args: Parameters<typeof window.open>) => {
        (window as any).opened.push({ url: args[0], name: args[1] });
        return open(...args);
      };
      window.Kakao.init(key);
    }, app.javascript_key);
    return { app, context, page };
  }

  /** Runs `action` on the page and returns the form the sharer popup received (the popup is reused, as a named window is). */
  async function sharerForm(context: BrowserContext, action: () => Promise<unknown>): Promise<{ fields: Record<string, string> }> {
    const posted = context.waitForEvent('request', (r: Request) => r.url() === `${kapibara}/picker/link` && r.method() === 'POST');
    await action();
    const request = await posted;
    return { fields: Object.fromEntries(new URLSearchParams(request.postData() ?? '')) };
  }

  it('sendDefault: the feed sample is POSTed to /picker/link as a snake_case template_object', async () => {
    const { app, context, page } = await open();
    const { fields } = await sharerForm(context, () => page.evaluate((s) => window.Kakao.Link.sendDefault(s), FEED));
    assert.deepEqual(await page.evaluate(() => (window as any).opened), [{ url: '', name: 'sharer' }]);
    assert.deepEqual(Object.keys(fields).sort(), ['app_key', 'ka', 'validation_action', 'validation_params']);
    assert.equal(fields.app_key, app.javascript_key);
    assert.match(fields.ka, new RegExp(`^sdk/2\\.\\S+ os/javascript sdk_type/javascript lang/\\S+ device/\\S+ origin/${encodeURIComponent(site.origin).replace(/\./g, '\\.')}$`));
    assert.equal(fields.validation_action, 'default');
    assert.deepEqual(JSON.parse(fields.validation_params), { link_ver: '4.0', template_object: FEED_TEMPLATE_OBJECT });
    await context.close();
  });

  it('sendDefault and createDefaultButton: every default sample (list, location, commerce, text), Share and Link names', async () => {
    const { context, page } = await open();
    const expectations: Record<string, (t: any) => void> = {
      list: (t) => {
        assert.equal(t.header_title, 'WEEKLY MAGAZINE');
        assert.deepEqual(t.header_link, { mobile_web_url: 'https://developers.kakao.com', web_url: 'https://developers.kakao.com' });
        assert.equal(t.contents.length, 3);
        assert.equal(t.contents[1].image_url, 'http://k.kakaocdn.net/dn/QPeNt/btqgeSfSsCR/0QJIRuWTtkg4cYc57n8H80/kakaolink40_original.png');
      },
      location: (t) => {
        assert.equal(t.address, '235, Pangyoyeok-ro, Bundang-gu, Seongnam-si, Gyeonggi-do');
        assert.equal(t.address_title, 'Kakao Pangyo Office Cafe Talk');
        assert.deepEqual(t.social, { like_count: 286, comment_count: 45, shared_count: 845 });
      },
      commerce: (t) => assert.deepEqual(t.commerce, { product_name: 'Kakao Mini', regular_price: 100000, discount_rate: 10, discount_price: 90000 }),
      text: (t) => assert.deepEqual(t, { object_type: 'text', text: TEXT.text, link: { mobile_web_url: 'https://developers.kakao.com', web_url: 'https://developers.kakao.com' } }),
    };
    for (const [type, check] of Object.entries(expectations)) {
      const sample = DEFAULT_SAMPLES[type as keyof typeof DEFAULT_SAMPLES];
      for (const ns of ['Share', 'Link']) {
        const sent = await sharerForm(context, () => page.evaluate(([n, s]) => window.Kakao[n as string].sendDefault(s), [ns, sample] as const));
        const params = JSON.parse(sent.fields.validation_params);
        assert.equal(params.template_object.object_type, type);
        check(params.template_object);
        const buttonId = `btn-${type}-${ns}`;
        const clicked = await sharerForm(context, async () => {
          await page.evaluate(([n, s, id]) => {
            const b = document.createElement('button');
            b.id = id as string;
            document.body.appendChild(b);
            window.Kakao[n as string].createDefaultButton({ container: `#${id}`, ...(s as object) });
          }, [ns, sample, buttonId] as const);
          await page.click(`#${buttonId}`);
        });
        assert.deepEqual(JSON.parse(clicked.fields.validation_params), params);
      }
    }
    await context.close();
  });

  it('sendCustom / createCustomButton and sendScrap / createScrapButton send template ids, args and request URLs', async () => {
    const { context, page } = await open();
    const custom = await sharerForm(context, () => page.evaluate((args) => window.Kakao.Link.sendCustom({ templateId: 1234, templateArgs: args }), CUSTOM_ARGS));
    assert.equal(custom.fields.validation_action, 'custom');
    assert.deepEqual(JSON.parse(custom.fields.validation_params), { link_ver: '4.0', template_id: 1234, template_args: CUSTOM_ARGS });
    const customButton = await sharerForm(context, async () => {
      await page.evaluate((args) => window.Kakao.Share.createCustomButton({ container: '#kakao-link-btn', templateId: 1234, templateArgs: args }), CUSTOM_ARGS);
      await page.click('#kakao-link-btn');
    });
    assert.deepEqual(JSON.parse(customButton.fields.validation_params), { link_ver: '4.0', template_id: 1234, template_args: CUSTOM_ARGS });

    const scrap = await sharerForm(context, () => page.evaluate(() => window.Kakao.Link.sendScrap({ requestUrl: 'https://developers.kakao.com' })));
    assert.equal(scrap.fields.validation_action, 'scrap');
    assert.deepEqual(JSON.parse(scrap.fields.validation_params), { link_ver: '4.0', request_url: 'https://developers.kakao.com' });
    const scrapTemplate = await sharerForm(context, () => page.evaluate(() => window.Kakao.Share.sendScrap({ requestUrl: 'https://developers.kakao.com', templateId: 77 })));
    assert.deepEqual(JSON.parse(scrapTemplate.fields.validation_params), { link_ver: '4.0', request_url: 'https://developers.kakao.com', template_id: 77 });
    await context.close();
  });

  it('createScrapButton, serverCallbackArgs as lcba, and SDK v1 field names', async () => {
    const { context, page } = await open();
    const scrapButton = await sharerForm(context, async () => {
      await page.evaluate(() => {
        const b = document.createElement('button');
        b.id = 'scrap-btn';
        document.body.appendChild(b);
        window.Kakao.Link.createScrapButton({ container: '#scrap-btn', requestUrl: 'https://developers.kakao.com', templateId: 77 });
      });
      await page.click('#scrap-btn');
    });
    assert.deepEqual(JSON.parse(scrapButton.fields.validation_params), { link_ver: '4.0', request_url: 'https://developers.kakao.com', template_id: 77 });

    const withArgs = await sharerForm(context, () => page.evaluate((s) => window.Kakao.Link.sendDefault(s), TEXT_WITH_CALLBACK_ARGS));
    assert.equal(withArgs.fields.lcba, '{"key":"value"}');
    assert.equal(JSON.parse(withArgs.fields.validation_params).template_object.serverCallbackArgs, undefined);
    assert.equal(JSON.parse(withArgs.fields.validation_params).template_object.server_callback_args, undefined);

    const v1 = await sharerForm(context, () => page.evaluate((s) => window.Kakao.Link.sendDefault(s), v1Names(FEED)));
    const t = JSON.parse(v1.fields.validation_params).template_object;
    assert.deepEqual(t.content.link, { mobile_web_url: 'https://developers.kakao.com', android_execution_params: 'test' });
    assert.equal(t.item_content, undefined);
    await context.close();
  });

  it('bad arguments throw KakaoError before anything opens', async () => {
    const { context, page } = await open();
    const errors = await page.evaluate(() => {
      const out: string[] = [];
      const attempt = (f: () => void) => {
        try {
          f();
          out.push('no error');
        } catch (e) {
          out.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
      };
      attempt(() => window.Kakao.Share.sendDefault({ objectType: 'poster' }));
      attempt(() => window.Kakao.Share.sendCustom({ templateArgs: {} }));
      attempt(() => window.Kakao.Share.sendScrap({ requestUrl: 'https://developers.kakao.com', bogus: 1 }));
      attempt(() => window.Kakao.Share.createDefaultButton({ container: '#missing', objectType: 'text', text: 't', link: {} }));
      return out;
    });
    assert.deepEqual(errors, [
      'KakaoError: Share.sendDefault: objectType must be one of feed, list, location, commerce, text, calendar.',
      'KakaoError: Share.sendCustom: templateId is required.',
      'KakaoError: Share.sendScrap: unknown parameter bogus.',
      'KakaoError: Share.createDefaultButton: container #missing is not an element on this page.',
    ]);
    assert.equal(context.pages().length, 1);
    await context.close();
  });
});
