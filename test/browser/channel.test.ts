import { after, before, it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { forEachStore, type Harness } from '../helpers/harness.js';
import { launchChromium } from '../helpers/browser.js';

/**
 * The channel pages in a real browser (Debian's Chromium): a signed-in person adds a channel
 * on pf.kakao.com/<id>/friend and the app reads ADDED; blocking through the control plane
 * reads BLOCKED; a person who is not signed in goes through the sign-in page and back; the
 * follow flow answers the opener window with {status, channelPublicId}.
 */

/** A web app origin that only serves an empty page (the opener of the follow popup). */
function webApp(): Promise<{ server: http.Server; origin: string }> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Web app</title><h1>Web app</h1>'));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

forEachStore('Kakao Talk Channel pages in Chromium', (h: Harness) => {
  let browser: Browser;
  let kapibara = '';
  let web: { server: http.Server; origin: string };

  before(async () => {
    browser = await launchChromium();
    kapibara = await h.listen();
    web = await webApp();
  });
  after(async () => {
    await browser?.close();
    web.server.closeAllConnections();
    await new Promise((resolve) => web.server.close(resolve));
  });

  async function setup() {
    const app = await h.createApp({ name: 'Channel Shop', web_domains: [web.origin], consent_items: { profile_nickname: 'required', plusfriends: 'optional' } });
    const person = await h.createAccount({ nickname: 'Muzi', email: 'muzi@example.com' });
    await h.control('POST', '/channels', { app_id: app.id, public_id: '_ZeUTxl', search_id: '@kapibara_shop', name: 'Kapibara Shop' });
    const token = await h.token(app, person, ['profile_nickname', 'plusfriends']);
    const relation = async () => (await h.kapi('GET', '/v2/api/talk/channels', token.access_token, { channel_ids: '_ZeUTxl', channel_id_type: 'channel_public_id' })).json();
    return { app, person, token, relation };
  }

  it('not signed in: through the sign-in page and back; Add channel → ADDED; blocking in the control plane → BLOCKED', async () => {
    const { person, token, relation } = await setup();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${kapibara}/_ZeUTxl/friend?app_key=x&api_ver=1.0`);
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.click(`button[data-account-id="${person.id}"]`);
    await page.waitForSelector('#add-channel');
    assert.equal(new URL(page.url()).pathname, '/_ZeUTxl/friend');
    assert.equal(await page.textContent('#signed-in-as'), 'Muzi');
    assert.equal(await page.getAttribute('#relation', 'data-relation'), 'NONE');
    assert.deepEqual((await relation()).channels, [{ channel_uuid: '@kapibara_shop', channel_public_id: '_ZeUTxl', relation: 'NONE' }]);

    await page.click('#add-button');
    await page.waitForSelector('#chat-link');
    assert.equal(await page.getAttribute('#relation', 'data-relation'), 'ADDED');
    const added = await relation();
    assert.equal(added.user_id, token.user_id);
    assert.equal(added.channels[0].relation, 'ADDED');
    assert.match(added.channels[0].updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // The chat page: what the person writes is kept and shown to the channel.
    await page.click('#chat-link');
    await page.fill('#text', '안녕하세요');
    await page.click('#chat-form button[type=submit]');
    await page.waitForSelector('li[data-message-id]');
    assert.match((await page.textContent('#messages'))!, /안녕하세요/);
    assert.deepEqual((await h.control('GET', '/channels/_ZeUTxl/chats')).map((m: any) => [m.account_id, m.text]), [[person.id, '안녕하세요']]);

    await h.control('PUT', `/channels/_ZeUTxl/relations/${person.id}`, { relation: 'BLOCKED' });
    assert.equal((await relation()).channels[0].relation, 'BLOCKED');
    await page.goto(`${kapibara}/_ZeUTxl/friend`);
    assert.equal(await page.getAttribute('#relation', 'data-relation'), 'BLOCKED');
    await context.close();
  });

  it('the add page refuses framing, and a form posted without its token (CSRF) changes nothing', async () => {
    const { person, relation } = await setup();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${kapibara}/_ZeUTxl/friend`);
    await page.click(`button[data-account-id="${person.id}"]`);
    await page.waitForSelector('#add-channel');
    const res = await page.request.get(`${kapibara}/_ZeUTxl/friend`);
    assert.equal(res.headers()['x-frame-options'], 'DENY');
    assert.match(res.headers()['content-security-policy'], /frame-ancestors 'none'/);
    assert.match(res.headers()['content-security-policy'], /form-action 'self'/);
    // Another site's page posts the form into Kapibara with the person's cookie.
    await page.goto(`${web.origin}/attacker`);
    await page.evaluate((target) => {
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = target;
      document.body.append(form);
      form.submit();
    }, `${kapibara}/_ZeUTxl/friend`);
    await page.waitForURL(`${kapibara}/_ZeUTxl/friend`);
    assert.match((await page.textContent('body'))!, /This form was sent by another site's page \(http:\/\/127.0.0.1:\d+\), not by Kapibara's own page./);
    assert.equal((await relation()).channels[0].relation, 'NONE');
    await context.close();
  });

  it('Kakao.Channel.followChannel: /api/agt, then the follow page in a popup answers the opener {status, channelPublicId}', async () => {
    const { app, token, relation } = await setup();
    const agtRes = await h.inject({
      method: 'POST',
      url: '/api/agt',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ client_id: app.javascript_key, access_token: token.access_token }).toString(),
    });
    assert.equal(agtRes.statusCode, 200, agtRes.body);
    const { agt } = agtRes.json();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${web.origin}/`);
    const followUrl = `${kapibara}/talk/channel/follow?${new URLSearchParams({ app_key: app.javascript_key, channel_public_id: '_ZeUTxl', trans_id: 'tr-1', agt, ka: 'sdk/2.7.2 os/javascript' })}`;
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      page.evaluate((url) => {
        (window as any).results = [];
        window.addEventListener('message', (e) => (window as any).results.push({ origin: e.origin, data: e.data }));
        window.open(url, 'follow_channel');
      }, followUrl),
    ]);
    await popup.waitForSelector('#follow-button');
    assert.equal(await popup.textContent('#signed-in-as'), 'Muzi');
    await popup.click('#follow-button');
    await page.waitForFunction(() => (window as any).results.length > 0, undefined, { polling: 100 });
    assert.deepEqual(await page.evaluate(() => (window as any).results), [{ origin: kapibara, data: { status: 'success', channelPublicId: '_ZeUTxl', transId: 'tr-1' } }]);
    assert.equal((await relation()).channels[0].relation, 'ADDED');
    await context.close();
  });
});
