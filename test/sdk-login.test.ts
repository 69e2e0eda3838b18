import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { forEachStore, type Harness } from './helpers/harness.js';
import { FormBrowser } from './helpers/browser.js';

/**
 * What the JavaScript SDKs need from kauth besides the pages: GET /apiweb/code.json (SDK v2's
 * popup login), redirect_uri=kakaojs (SDK v1's popup login) and extra.service_terms.
 */

forEachStore('kauth for the JavaScript SDKs', (h: Harness) => {
  const WEB = 'https://shop.example';

  async function setup() {
    const app = await h.createApp({ web_domains: [WEB], consent_items: { profile_nickname: 'required' } });
    const person = await h.createAccount({ nickname: 'Neo', email: 'neo@example.com' });
    return { app, person };
  }

  /** The form token a page's forms carry (core/security.ts). */
  function token(html: string): string {
    const m = html.match(/name="csrf_token" value="([^"]*)"/);
    assert.ok(m, 'the page carries a form token');
    return m[1];
  }

  /** Logs `person` in on the login page and answers the consent page. */
  async function answer(browser: FormBrowser, origin: string, query: URLSearchParams, personId: number, action: 'agree' | 'cancel') {
    const page = await browser.request('GET', `${origin}/oauth/authorize?${query}`);
    assert.equal(page.status, 200);
    const picked = await browser.request('POST', `${origin}/oauth/authorize/login`, { request: query.toString(), csrf_token: token(page.body), account_id: String(personId) });
    assert.equal(picked.status, 303, picked.body);
    const consent = await browser.request('GET', new URL(String(picked.headers.location), origin).toString());
    assert.match(consent.body, /id="consent"/);
    return browser.request('POST', `${origin}/oauth/authorize/consent`, { request: query.toString(), csrf_token: token(consent.body), action });
  }

  function poll(query: Record<string, string>) {
    return h.inject({ method: 'GET', url: `/apiweb/code.json?${new URLSearchParams(query)}` });
  }

  it('code.json: pending, then the code once, then pending again; errors in the kauth shape', async () => {
    const { app, person } = await setup();
    const tran = 'T'.repeat(60);
    const pending = await poll({ client_id: app.javascript_key, auth_tran_id: tran });
    assert.equal(pending.statusCode, 200);
    assert.equal(pending.headers['content-type'], 'application/json;charset=UTF-8');
    assert.equal(pending.headers['cache-control'], 'no-store');
    assert.deepEqual(pending.json(), { status: 'error', error_code: '300', error: 'authorization_pending', error_description: 'The person has not finished logging in yet.' });

    const browser = new FormBrowser();
    const origin = await h.listen();
    const query = new URLSearchParams({ client_id: app.javascript_key, redirect_uri: 'JS-SDK', response_type: 'code', auth_tran_id: tran, state: 's1' });
    const agreed = await answer(browser, origin, query, person.id, 'agree');
    assert.equal(agreed.status, 200);
    const code = agreed.body.match(/data-field="code">([^<]+)</)![1];

    const answered = await poll({ client_id: app.javascript_key, auth_tran_id: tran, ka: `sdk/2.7.4 os/javascript origin/${encodeURIComponent(WEB)}` });
    assert.deepEqual(answered.json(), { status: 'ok', code, state: 's1' });
    assert.deepEqual((await poll({ client_id: app.javascript_key, auth_tran_id: tran })).json(), pending.json());
    // Another transaction id never sees it.
    assert.deepEqual((await poll({ client_id: app.javascript_key, auth_tran_id: 'U'.repeat(60) })).json(), pending.json());

    const unknown = await poll({ client_id: 'nope', auth_tran_id: tran });
    assert.equal(unknown.statusCode, 401);
    assert.deepEqual(unknown.json(), { error: 'invalid_client', error_description: 'invalid client_id: nope', error_code: 'KOE101' });
    const missing = await poll({ client_id: app.javascript_key });
    assert.equal(missing.statusCode, 400);
    assert.deepEqual(missing.json(), { error: 'invalid_request', error_description: 'auth_tran_id is required.', error_code: 'KOE001' });
    const elsewhere = await poll({ client_id: app.javascript_key, auth_tran_id: tran, ka: `sdk/2.7.4 os/javascript origin/${encodeURIComponent('https://evil.example')}` });
    assert.equal(elsewhere.statusCode, 401);
    assert.deepEqual(elsewhere.json(), {
      error: 'misconfigured',
      error_description: `origin https://evil.example (from KA) is not a registered web domain of app ${app.id}.`,
      error_code: 'KOE009',
    });
  });

  it('code.json answers a page only on one of the app\'s web domains: Origin first, a KA that says otherwise does not override it', async () => {
    const { app, person } = await setup();
    const tran = 'O'.repeat(60);
    const browser = new FormBrowser();
    const origin = await h.listen();
    const query = new URLSearchParams({ client_id: app.javascript_key, redirect_uri: 'JS-SDK', response_type: 'code', auth_tran_id: tran });
    await answer(browser, origin, query, person.id, 'agree');
    const url = `/apiweb/code.json?${new URLSearchParams({ client_id: app.javascript_key, auth_tran_id: tran })}`;
    const ka = `sdk/2.7.4 os/javascript origin/${encodeURIComponent(WEB)}`;
    // A hostile page that picked the auth_tran_id: its fetch carries its Origin, whatever KA it writes.
    for (const headers of [{ origin: 'https://evil.example' }, { origin: 'https://evil.example', ka }, { origin: 'null', ka }]) {
      const stolen = await h.inject({ method: 'GET', url: `${url}&ka=${encodeURIComponent(ka)}`, headers });
      assert.equal(stolen.statusCode, 401, JSON.stringify(headers));
      assert.deepEqual(stolen.json(), {
        error: 'misconfigured',
        error_description: `origin ${headers.origin} (from Origin) is not a registered web domain of app ${app.id}.`,
        error_code: 'KOE009',
      });
    }
    // The app's page gets it (once).
    const own = await h.inject({ method: 'GET', url, headers: { origin: WEB } });
    assert.equal(own.json().status, 'ok');
  });

  it('code.json reports a cancelled login once as an error', async () => {
    const { app, person } = await setup();
    const tran = 'C'.repeat(60);
    const browser = new FormBrowser();
    const origin = await h.listen();
    const query = new URLSearchParams({ client_id: app.javascript_key, redirect_uri: 'JS-SDK', response_type: 'code', auth_tran_id: tran });
    await answer(browser, origin, query, person.id, 'cancel');
    assert.deepEqual((await poll({ client_id: app.javascript_key, auth_tran_id: tran })).json(), {
      status: 'error',
      error_code: '500',
      error: 'access_denied',
      error_description: 'User denied access',
    });
  });

  it('the result expires with the code: ten minutes on the platform clock', async () => {
    const { app, person } = await setup();
    const tran = 'E'.repeat(60);
    const browser = new FormBrowser();
    const origin = await h.listen();
    const query = new URLSearchParams({ client_id: app.javascript_key, redirect_uri: 'JS-SDK', response_type: 'code', auth_tran_id: tran });
    await answer(browser, origin, query, person.id, 'agree');
    await h.advanceClock(601);
    assert.equal((await poll({ client_id: app.javascript_key, auth_tran_id: tran })).json().error_code, '300');
  });

  it('redirect_uri=kakaojs is the JavaScript key’s; other keys get KOE006', async () => {
    const { app } = await setup();
    const query = (key: string) => `/oauth/authorize?${new URLSearchParams({ client_id: key, redirect_uri: 'kakaojs', response_type: 'code', state: 'st', proxy: 'easyXDM_Kakao_abc_provider', origin: WEB })}`;
    const js = await h.inject({ method: 'GET', url: query(app.javascript_key) });
    assert.equal(js.statusCode, 200);
    assert.match(js.body, /Log in with Kakao/);
    const rest = await h.inject({ method: 'GET', url: query(app.rest_api_key) });
    assert.equal(rest.statusCode, 400);
    assert.match(rest.body, /KOE006/);
    assert.match(rest.body, /redirect_uri mismatch: kakaojs is not registered/);
  });
});
