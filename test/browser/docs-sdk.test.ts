import { after, before, it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Request } from 'playwright-core';
import { forEachStore, type Harness } from '../helpers/harness.js';
import { launchChromium } from '../helpers/browser.js';
import { AppSite } from './sdk-pages.js';

/** The ```html kapibara-sdk-example pages of docs/browser-sdk.md, run as written in Chromium. */

function examples(): string[] {
  const text = readFileSync(join(process.cwd(), 'docs', 'browser-sdk.md'), 'utf8');
  return [...text.matchAll(/```html kapibara-sdk-example[^\n]*\n([\s\S]*?)```/g)].map((m) => m[1]);
}

forEachStore('browser SDK documentation examples', (h: Harness) => {
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

  async function run(index: number) {
    const found = examples();
    assert.equal(found.length, 3, 'docs/browser-sdk.md has three examples');
    const app = await h.createApp({ web_domains: [site.origin] });
    const person = await h.createAccount({ nickname: 'Frodo', email: 'frodo@example.com' });
    site.html = found[index].replaceAll('http://localhost:9876', kapibara).replaceAll('YOUR_JAVASCRIPT_KEY', app.javascript_key);
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${site.origin}/page`);
    return { app, person, context, page, errors };
  }

  it('the API.request example answers with kapi’s error body before a login', async () => {
    const { app, context, page, errors } = await run(0);
    await page.waitForFunction(() => document.getElementById('result')!.textContent !== '', undefined, { polling: 100 });
    assert.deepEqual(JSON.parse((await page.textContent('#result'))!), { msg: `This api is not allowed by using app_key(${app.javascript_key}).`, code: -3 });
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('the popup login example resolves with the code and state', async () => {
    const { person, context, page, errors } = await run(1);
    const popupPromise = context.waitForEvent('page');
    await page.click('#login');
    const popup = await popupPromise;
    await popup.click(`button[data-account-id="${person.id}"]`);
    await popup.waitForSelector('form#consent');
    await popup.click('button[value="agree"]');
    await page.waitForFunction(() => document.getElementById('result')!.textContent !== '', undefined, { polling: 100 });
    const result = JSON.parse((await page.textContent('#result'))!);
    assert.equal(result.state, 'my-state');
    assert.equal(typeof result.code, 'string');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('the sharing example POSTs the text template and lcba to the sharer', async () => {
    const { app, context, page, errors } = await run(2);
    const posted = context.waitForEvent('request', (r: Request) => r.url() === `${kapibara}/picker/link` && r.method() === 'POST');
    await page.click('#share');
    const fields = Object.fromEntries(new URLSearchParams((await posted).postData() ?? ''));
    assert.equal(fields.app_key, app.javascript_key);
    assert.equal(fields.lcba, '{"key":"value"}');
    assert.deepEqual(JSON.parse(fields.validation_params), {
      link_ver: '4.0',
      template_object: {
        object_type: 'text',
        text: 'Start developing the Kakao platform services with the JavaScript SDK sample.',
        link: { mobile_web_url: 'https://developers.kakao.com', web_url: 'https://developers.kakao.com' },
      },
    });
    assert.deepEqual(errors, []);
    await context.close();
  });
});
