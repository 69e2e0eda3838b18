import { after, before, it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { forEachStore } from '../helpers/harness.js';
import { launchChromium } from '../helpers/browser.js';

/** The console's request inspector in a real browser: calls appear while the page is open. */
forEachStore('console: requests, live', (h) => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  it('shows the calls made before it opened, then new ones as they arrive, newest first', async () => {
    const origin = await h.listen();
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', friends: 'optional' } });
    const ryan = await h.createAccount({ nickname: 'Ryan' });
    const t = await h.token(app, ryan, ['profile_nickname']);
    await fetch(`${origin}/v2/user/me`, { headers: { authorization: `Bearer ${t.access_token}` } });
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/_kapibara/console/requests`);
      const rows = page.locator('#requests tr');
      assert.equal(await rows.count(), 1);
      assert.match(await rows.nth(0).innerText(), /GET \/v2\/user\/me\s+kapi\s+\d+\s+\d+\s+200/);
      await fetch(`${origin}/v1/api/talk/friends`, { headers: { authorization: `Bearer ${t.access_token}` } });
      await page.waitForFunction(() => document.querySelectorAll('#requests tr').length === 2, undefined, { polling: 100 });
      assert.match(await rows.nth(0).innerText(), /GET \/v1\/api\/talk\/friends\s+kapi\s+\d+\s+\d+\s+FRIENDS\s+403\s+-402/);
    } finally {
      await page.close();
    }
  });

  it('keeps adding new calls after the log was emptied (a test suite resetting before each test)', async () => {
    const origin = await h.listen();
    for (let i = 0; i < 3; i++) await fetch(`${origin}/v2/user/me`);
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/_kapibara/console/requests`);
      const rows = page.locator('#requests tr');
      assert.equal(await rows.count(), 3);
      await h.reset();
      await fetch(`${origin}/v1/api/talk/friends`);
      await page.waitForFunction(() => document.querySelectorAll('#requests tr').length === 4, undefined, { polling: 100, timeout: 5000 });
      assert.match(await rows.nth(0).innerText(), /GET \/v1\/api\/talk\/friends\s+kapi/);
    } finally {
      await page.close();
    }
  });

  it('works opened with a trailing slash too (/requests/): its script and its feed are found', async () => {
    const origin = await h.listen();
    await fetch(`${origin}/v2/user/me`);
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/_kapibara/console/requests/`);
      await fetch(`${origin}/v1/api/talk/friends`);
      await page.waitForFunction(() => document.querySelectorAll('#requests tr').length === 2, undefined, { polling: 100, timeout: 5000 });
      assert.match(await page.locator('#requests tr').nth(0).innerText(), /GET \/v1\/api\/talk\/friends\s+kapi/);
    } finally {
      await page.close();
    }
  });
});
