import { after, before, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { type TestAccount, type TestApp, cookiesOf, csrfTokenOf, forEachStore } from './helpers/harness.js';
import { SEED_SITE, SEED_TEMPLATES, eventually, sharingWorld, webhookReceiver } from './fixtures/sharing.js';
import { betweenCheckAndInsert } from './helpers/deliveries.js';
import { beforeInsertInto, whileDeleting } from './helpers/deletes.js';
import { assertIndexed, plansOfStatements, statementsDuring } from './helpers/query-plans.js';
import { DELIVERY_ATTEMPTS } from '../src/products/message/delivery.js';
import { buildApp } from '../src/app.js';

const HTML_TYPE = 'text/html; charset=utf-8';

function cookieOf(res: LightMyRequestResponse): string {
  const set = res.headers['set-cookie'];
  const list = Array.isArray(set) ? set : set ? [set] : [];
  return list.map((c) => c.split(';')[0]).join('; ');
}

function field(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  assert.ok(m, `no ${name} in the page`);
  return m[1];
}

forEachStore('Kakao Talk sharing: the web sharer', (h) => {
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  before(async () => {
    hook = await webhookReceiver((url) => (url.startsWith('/slow') ? { status: 200, delayMs: 4000 } : url.startsWith('/moved') ? { status: 302, location: '/elsewhere' } : { status: 200 }));
  });
  after(async () => hook.close());

  /** SDK v2's hidden form, posted from the app's page. */
  function postLink(fields: Record<string, string>, headers: Record<string, string> = { origin: SEED_SITE }, path = '/picker/link') {
    return h.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(fields).toString() });
  }

  function v2Fields(app: TestApp, template: object, lcba?: object): Record<string, string> {
    const fields: Record<string, string> = {
      app_key: app.javascript_key,
      ka: `sdk/2.7.2 os/javascript sdk_type/javascript lang/en-US device/Linux_x86_64 origin/${encodeURIComponent(SEED_SITE)}`,
      validation_action: 'default',
      validation_params: JSON.stringify({ link_ver: '4.0', template_object: template }),
    };
    if (lcba) fields.lcba = JSON.stringify(lcba);
    return fields;
  }

  async function signIn(res: LightMyRequestResponse, person: TestAccount): Promise<{ cookie: string; picker: LightMyRequestResponse }> {
    assert.equal(res.statusCode, 303, res.body);
    // A POST is looked at again on a GET (where a SameSite=Lax cookie would be sent), then sent to sign in.
    if (res.raw.req.method === 'POST') {
      assert.match(String(res.headers.location), /^\/picker\/link\?short_key=[\w-]+$/);
      res = await h.inject({ method: 'GET', url: String(res.headers.location) });
      assert.equal(res.statusCode, 303, res.body);
    }
    const login = String(res.headers.location);
    assert.match(login, /^\/login\?continue=%2Fpicker%2Flink%3Fshort_key%3D/);
    const page = await h.inject({ method: 'GET', url: login });
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes(`data-account-id="${person.id}"`));
    const next = new URL(login, 'http://x').searchParams.get('continue')!;
    const signed = await h.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(page) },
      payload: new URLSearchParams({ continue: next, csrf_token: csrfTokenOf(page.body), account_id: String(person.id) }).toString(),
    });
    assert.equal(signed.statusCode, 303, signed.body);
    assert.equal(signed.headers.location, next);
    const cookie = cookieOf(signed);
    assert.match(cookie, /^kapibara_session=/);
    const picker = await h.inject({ method: 'GET', url: next, headers: { cookie } });
    return { cookie, picker };
  }

  function send(cookie: string, picker: string, receivers: string[], headers: Record<string, string> = {}) {
    const body = new URLSearchParams({ short_key: field(picker, 'short_key'), _csrf: field(picker, '_csrf') });
    for (const r of receivers) body.append('receiver', r);
    return h.inject({ method: 'POST', url: '/picker/send', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers }, payload: body.toString() });
  }

  it('SDK v2 form → sign in → picker (preview, me, group chats, every Talk friend) → sent to me, a friend and a group; the webhook per chat', async () => {
    const w = await sharingWorld(h);
    await h.control('PUT', `/apps/${w.app.id}/sharing_webhook`, { url: `${hook.origin}/kakao/shared`, method: 'POST' });
    hook.calls.length = 0;
    const { cookie, picker } = await signIn(await postLink(v2Fields(w.app, SEED_TEMPLATES.feed, { key: 'value', item: 42 })), w.sender);
    assert.equal(picker.statusCode, 200, picker.body);
    assert.equal(picker.headers['content-type'], HTML_TYPE);
    assert.equal(picker.headers['x-frame-options'], 'DENY');
    assert.match(String(picker.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.match(String(picker.headers['content-security-policy']), /form-action 'self'/);
    const html = picker.body;
    assert.ok(html.includes('Dessert pictures') && html.includes('Americano, bread, cake'), 'the rendered preview');
    for (const value of ['me', `f${w.ryan.id}`, `f${w.apeach.id}`, `g${w.group.id}`]) assert.ok(html.includes(`data-receiver="${value}"`), value);
    assert.ok(!html.includes(`data-receiver="f${w.offline.id}"`), 'a friend without Kakao Talk is not offered');
    assert.ok(html.includes('Dessert club'));

    const sent = await send(cookie, html, ['me', `f${w.ryan.id}`, `g${w.group.id}`]);
    assert.equal(sent.statusCode, 200, sent.body);
    assert.ok(sent.body.includes(`<script type="application/json" id="sent-data">{"origin":"${SEED_SITE}"}</script>`));
    assert.ok(sent.body.includes("window.opener.postMessage('sent',data.origin)"));

    // One message per chosen chat, with its chat type.
    const chats = await h.control('GET', `/accounts/${w.sender.id}/chats`);
    assert.deepEqual(chats.chats.map((c: { id: string; type: string }) => [c.id, c.type]).sort(), [
      [`${w.ryan.id}`, 'direct'],
      [`g${w.group.id}`, 'group'],
      ['memo', 'memo'],
    ]);
    const memo = await h.control('GET', `/accounts/${w.sender.id}/chats/memo/messages`);
    assert.equal(memo.total_count, 1);
    assert.equal(memo.messages[0].template.content.title, 'Dessert pictures');
    assert.equal(memo.messages[0].app_id, w.app.id);
    const ryanSide = await h.control('GET', `/accounts/${w.ryan.id}/chats/${w.sender.id}/messages`);
    assert.equal(ryanSide.messages[0].template.object_type, 'feed');
    const group = await h.control('GET', `/group_chats/${w.group.id}/messages`);
    assert.equal(group.total_count, 1);
    assert.equal(group.messages[0].chat_id, `g${w.group.id}`);
    assert.equal(group.messages[0].sender_account_id, w.sender.id);
    const apeachChats = await h.control('GET', `/accounts/${w.apeach.id}/chats`);
    assert.deepEqual(apeachChats.chats.map((c: { id: string }) => c.id), [`g${w.group.id}`], 'group members see it; no 1:1 with Apeach');

    // The webhook: once per chat, with the documented headers and parameters.
    const calls = await eventually(async () => ((await h.control('GET', `/apps/${w.app.id}/sharing_webhook/calls`)).calls.length === 3 ? hook.calls : undefined));
    assert.equal(calls.length, 3);
    const templateId = memo.messages[0].template_id;
    const ids = new Set<string>();
    const types = [];
    for (const c of calls) {
      assert.equal(c.method, 'POST');
      assert.equal(c.url, '/kakao/shared');
      assert.equal(c.headers.authorization, `KakaoAK ${w.app.admin_key}`);
      assert.equal(c.headers['user-agent'], 'KakaoOpenAPI/1.0');
      assert.match(String(c.headers['content-type']), /^application\/x-www-form-urlencoded/);
      ids.add(String(c.headers['x-kakao-resource-id']));
      const p = Object.fromEntries(new URLSearchParams(c.body));
      assert.deepEqual(Object.keys(p), ['key', 'item', 'CHAT_TYPE', 'HASH_CHAT_ID', 'TEMPLATE_ID']);
      assert.equal(p.key, 'value');
      assert.equal(p.item, '42');
      assert.equal(p.TEMPLATE_ID, String(templateId));
      assert.match(p.HASH_CHAT_ID, /^[0-9a-f]{32}$/);
      types.push(p.CHAT_TYPE);
    }
    assert.equal(ids.size, 3, 'X-Kakao-Resource-ID is unique per call');
    assert.deepEqual(types.sort(), ['DirectChat', 'MemoChat', 'MultiChat']);
    const recorded = (await h.control('GET', `/apps/${w.app.id}/sharing_webhook/calls`)).calls;
    assert.deepEqual(
      recorded.map((c: { status: number; error: null; method: string }) => [c.status, c.error, c.method]),
      [
        [200, null, 'POST'],
        [200, null, 'POST'],
        [200, null, 'POST'],
      ],
    );

    // The same form sent again sends nothing more.
    const again = await send(cookie, html, ['me']);
    assert.equal(again.statusCode, 400);
    assert.ok(again.body.includes('already sent'));
    assert.equal((await h.control('GET', `/accounts/${w.sender.id}/chats/memo/messages`)).total_count, 1);

    // The console shows the group chat with its message, and the webhook calls.
    const consolePage = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${w.sender.id}` });
    assert.equal(consolePage.statusCode, 200);
    assert.ok(consolePage.body.includes('Dessert club (group chat)'));
    assert.ok(consolePage.body.includes('Kakao Talk sharing webhook calls (3)'));
  });

  it('signed in already: SDK v1 easylink (GET) and v1 form show the picker at once; several friends; GET webhook; no lcba, no webhook', async () => {
    const w = await sharingWorld(h);
    // A fragment never reaches a server: the parameters go in the query before it.
    await h.control('PUT', `/apps/${w.app.id}/sharing_webhook`, { url: `${hook.origin}/get-hook?fixed=1#top`, method: 'GET' });
    hook.calls.length = 0;
    const first = await signIn(await postLink(v2Fields(w.app, SEED_TEMPLATES.text)), w.sender);
    // The preview shows seed 004's 337-character text as Kakao Talk does: its first 200 characters, then an ellipsis.
    assert.ok(first.picker.body.includes(`<div>${SEED_TEMPLATES.text.text.slice(0, 200)}…</div>`), first.picker.body);
    assert.ok(!first.picker.body.includes(SEED_TEMPLATES.text.text.slice(0, 201)));
    const fields = {
      app_key: w.app.javascript_key,
      ka: `sdk/1.39.14 os/javascript sdk_type/javascript lang/ko-KR device/Linux origin/${encodeURIComponent(SEED_SITE)}`,
      validation_action: 'default',
      validation_params: JSON.stringify({ link_ver: '4.0', template_object: SEED_TEMPLATES.list }),
      lcba: JSON.stringify({ campaign: 'spring' }),
    };
    const easy = await h.inject({ method: 'GET', url: `/talk/friends/picker/easylink?${new URLSearchParams(fields)}`, headers: { cookie: first.cookie } });
    assert.equal(easy.statusCode, 200, easy.body);
    assert.ok(easy.body.includes('WEEKLY MAGAZINE'));
    const sent = await send(first.cookie, easy.body, [`f${w.ryan.id}`, `f${w.apeach.id}`]);
    assert.equal(sent.statusCode, 200, sent.body);
    const calls = await eventually(async () => (hook.calls.length === 2 ? hook.calls : undefined));
    for (const c of calls) {
      assert.equal(c.method, 'GET');
      const url = new URL(c.url, 'http://x');
      assert.equal(url.pathname, '/get-hook');
      assert.equal(url.searchParams.get('fixed'), '1');
      assert.equal(url.searchParams.get('campaign'), 'spring');
      assert.equal(url.searchParams.get('CHAT_TYPE'), 'DirectChat');
    }
    assert.notEqual(new URL(calls[0].url, 'http://x').searchParams.get('HASH_CHAT_ID'), new URL(calls[1].url, 'http://x').searchParams.get('HASH_CHAT_ID'));
    // SDK v1’s form without lcba: sending it calls no webhook.
    hook.calls.length = 0;
    const v1Form = await postLink({ ...fields, lcba: '' }, { origin: SEED_SITE, cookie: first.cookie }, '/talk/friends/picker/link');
    assert.equal(v1Form.statusCode, 200);
    assert.equal((await send(first.cookie, v1Form.body, ['me'])).statusCode, 200);
    assert.equal((await h.control('GET', `/accounts/${w.sender.id}/chats/memo/messages`)).total_count, 1);
    const recorded = (await h.control('GET', `/apps/${w.app.id}/sharing_webhook/calls`)).calls;
    assert.equal(recorded.length, 2);
    assert.equal(hook.calls.length, 0);
  });

  it('custom validation_action; an issued template id sent back as custom (Flutter web)', async () => {
    const w = await sharingWorld(h);
    await h.control('POST', `/apps/${w.app.id}/templates`, {
      id: 5005,
      template: { object_type: 'text', text: 'Hello ${name}', link: { web_url: SEED_SITE } },
    });
    const first = await signIn(
      await postLink({ app_key: w.app.javascript_key, validation_action: 'custom', validation_params: JSON.stringify({ link_ver: '4.0', template_id: 5005, template_args: { name: 'Ryan' } }) }),
      w.sender,
    );
    assert.ok(first.picker.body.includes('Hello Ryan'));
    assert.equal((await send(first.cookie, first.picker.body, ['me'])).statusCode, 200);
    const memo = await h.control('GET', `/accounts/${w.sender.id}/chats/memo/messages`);
    assert.equal(memo.messages[0].template.text, 'Hello Ryan');
    assert.equal(memo.messages[0].template_id, 5005);

    const validated = await h.kapiKey('GET', '/v2/api/kakaolink/talk/template/default', w.app.javascript_key, { link_ver: '4.0', template_object: SEED_TEMPLATES.location });
    const { template_id, template_args } = validated.json();
    const flutter = await h.inject({
      method: 'GET',
      url: `/talk/friends/picker/easylink?${new URLSearchParams({ app_key: w.app.javascript_key, validation_action: 'custom', validation_params: JSON.stringify({ template_id, template_args, link_ver: '4.0' }) })}`,
      headers: { cookie: first.cookie },
    });
    assert.equal(flutter.statusCode, 200, flutter.body);
    assert.ok(flutter.body.includes('Cherry Blossom Latte'));
  });

  it('a person who does not use Kakao Talk gets the failure page (-501), not a picker, and nothing is stored', async () => {
    const w = await sharingWorld(h);
    const { picker } = await signIn(await postLink(v2Fields(w.app, SEED_TEMPLATES.text)), w.offline);
    assert.equal(picker.statusCode, 400, picker.body);
    assert.ok(picker.body.includes('<code id="error-code">-501</code>'), picker.body);
    assert.ok(picker.body.includes('NotExistTalkUserException'));
    assert.equal((await h.control('GET', `/accounts/${w.offline.id}/chats`)).total_count, 0);
    // A person who stops using Kakao Talk while the picker is open: the send is refused the same way.
    const open = await signIn(await postLink(v2Fields(w.app, SEED_TEMPLATES.text)), w.sender);
    await h.control('PATCH', `/accounts/${w.sender.id}`, { talk_user: false });
    const late = await send(open.cookie, open.picker.body, ['me']);
    assert.equal(late.statusCode, 400, late.body);
    assert.ok(late.body.includes('<code id="error-code">-501</code>'), late.body);
    assert.equal((await h.control('GET', `/accounts/${w.sender.id}/chats`)).total_count, 0);
  });

  it('a bad app key, domain or template gives the failure page (never a 500); forged and cross-site sends are refused', async () => {
    const w = await sharingWorld(h);
    const failure = async (res: LightMyRequestResponse, status: number, code: string, msg: string) => {
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.headers['content-type'], HTML_TYPE);
      assert.ok(res.body.includes('Failed request'));
      assert.ok(res.body.includes(`<code id="error-code">${code}</code>`), res.body);
      assert.ok(res.body.includes(msg), res.body);
    };
    await failure(await postLink({ ...v2Fields(w.app, SEED_TEMPLATES.text), app_key: 'nope' }), 401, '-401', 'invalid app key.');
    await failure(await postLink({ ...v2Fields(w.app, SEED_TEMPLATES.text), app_key: w.app.rest_api_key }), 401, '-401', 'invalid app key.');
    await failure(await postLink(v2Fields(w.app, SEED_TEMPLATES.text), { origin: 'https://evil.example' }), 401, '-401', 'domain mismatched! caller=https://evil.example. check out registered web domains.');
    // SDK v1's easylink is a top-level GET (no Origin): the Referer the browser sets beats a KA the page wrote.
    const easylink = (fields: Record<string, string>, headers: Record<string, string>) => h.inject({ method: 'GET', url: `/talk/friends/picker/easylink?${new URLSearchParams(fields)}`, headers });
    await failure(await easylink(v2Fields(w.app, SEED_TEMPLATES.text), { referer: 'https://evil.example/page' }), 401, '-401', 'domain mismatched! caller=https://evil.example. check out registered web domains.');
    const { ka: _ka, ...noKa } = v2Fields(w.app, SEED_TEMPLATES.text);
    // From the app's own page (nobody signed in here): on to sign-in, not refused.
    assert.equal((await easylink(noKa, { referer: `${SEED_SITE}/page` })).statusCode, 303);
    await failure(await postLink(v2Fields(w.app, { object_type: 'feed' })), 400, '-2', 'template_object.content is required.');
    await failure(await postLink({ ...v2Fields(w.app, SEED_TEMPLATES.text), validation_action: 'other' }), 400, '-2', 'invalid validation_action');
    await failure(await postLink({ ...v2Fields(w.app, SEED_TEMPLATES.text), validation_params: '{' }), 400, '-2', 'invalid validation_params: not a valid JSON.');
    await failure(await postLink({ ...v2Fields(w.app, SEED_TEMPLATES.text), lcba: '[1]' }), 400, '-2', 'invalid lcba');
    await failure(await h.inject({ method: 'GET', url: '/picker/link?short_key=unknown', headers: { cookie: (await signIn(await postLink(v2Fields(w.app, SEED_TEMPLATES.text)), w.sender)).cookie } }), 400, '-2', 'expired or does not exist');
    const error = Buffer.from(JSON.stringify({ code: -401, msg: 'domain mismatched! caller=https://x.example. check out registered web domains.' })).toString('base64url');
    await failure(await h.inject({ method: 'GET', url: `/picker/failed?app_key=${w.app.javascript_key}&error=${error}` }), 200, '-401', 'domain mismatched! caller=https://x.example. check out registered web domains.');

    const { cookie, picker } = await signIn(await postLink(v2Fields(w.app, SEED_TEMPLATES.text)), w.sender);
    // Another site's page posting the form, a wrong token, another person's session: refused, nothing sent.
    await failure(await send(cookie, picker.body, ['me'], { origin: 'https://evil.example' }), 403, '-401', 'another site');
    await failure(await send(cookie, picker.body.replace(/name="_csrf" value="[^"]*"/, 'name="_csrf" value="forged"'), ['me']), 403, '-401', 'security token');
    const other = await signIn(await postLink(v2Fields(w.app, SEED_TEMPLATES.text)), w.ryan);
    await failure(await send(other.cookie, picker.body, ['me']), 403, '-401', 'security token');
    // Chats the person may not send to are refused on the picker.
    const notFriend = await send(cookie, picker.body, [`f${w.offline.id}`]);
    assert.equal(notFriend.statusCode, 400, notFriend.body.slice(-600));
    assert.ok(notFriend.body.includes('not your Kakao Talk friend'));
    // The picker shown again carries a new token.
    const nothing = await send(cookie, notFriend.body, []);
    assert.equal(nothing.statusCode, 400);
    assert.ok(nothing.body.includes('Pick at least one chat'));
    assert.equal((await h.control('GET', `/accounts/${w.sender.id}/chats`)).total_count, 0);
  });

  it('a share whose app is deleted after its key was looked up, as its template or request is stored: the failure page for an unknown app key, never a 500', async () => {
    for (const table of ['sharing_templates', 'sharing_requests']) {
      const w = await sharingWorld(h);
      const hold = beforeInsertInto(h.store, table, () => h.control('DELETE', `/apps/${w.app.id}`));
      const res = await whileDeleting(hold, () => postLink(v2Fields(w.app, SEED_TEMPLATES.text)), () => table);
      assert.equal(res.statusCode, 401, `${table}: ${res.body.slice(-400)}`);
      assert.ok(res.body.includes('Failed request'), table);
      assert.ok(res.body.includes('<code id="error-code">-401</code>'), table);
      assert.ok(res.body.includes('invalid app key.'), table);
      await h.reset();
    }
  });

  it('webhook attempts record failures: a redirect is not followed, a slow receiver times out after 3 s, an unreachable one fails', { timeout: 30000 }, async () => {
    const w = await sharingWorld(h);
    const cases = [
      { url: `${hook.origin}/moved`, expect: (c: any) => c.status === 302 && /redirect not followed/.test(c.error) },
      { url: `${hook.origin}/slow`, expect: (c: any) => c.status === null && /no answer within 3000 ms/.test(c.error) },
      { url: 'http://127.0.0.1:9/closed', expect: (c: any) => c.status === null && /request failed/.test(c.error) },
    ];
    for (const [i, c] of cases.entries()) {
      await h.control('PUT', `/apps/${w.app.id}/sharing_webhook`, { url: c.url, method: 'POST' });
      const { cookie, picker } = await signIn(await postLink(v2Fields(w.app, SEED_TEMPLATES.text, { n: String(i) })), w.sender);
      assert.equal((await send(cookie, picker.body, ['me'])).statusCode, 200);
      const call = await eventually(async () => {
        const calls = (await h.control('GET', `/apps/${w.app.id}/sharing_webhook/calls`)).calls;
        return calls.length === i + 1 ? calls[0] : undefined;
      });
      assert.equal(call.url, c.url);
      assert.ok(c.expect(call), JSON.stringify(call));
    }
    assert.equal(hook.calls.filter((c) => c.url === '/elsewhere').length, 0, 'the redirect was not followed');
  });

  it('a webhook call under way when the server closes is stopped and recorded before close returns, not left running after it', async () => {
    const w = await sharingWorld(h);
    await h.control('PUT', `/apps/${w.app.id}/sharing_webhook`, { url: `${hook.origin}/slow`, method: 'POST' });
    const { cookie, picker } = await signIn(await postLink(v2Fields(w.app, SEED_TEMPLATES.text, { n: 'closing' })), w.sender);
    // Sent through a second server on the same store (the session is in the store), which then closes.
    const other = await buildApp({ store: h.store, clock: h.clock });
    const body = new URLSearchParams({ short_key: field(picker.body, 'short_key'), _csrf: field(picker.body, '_csrf'), receiver: 'me' });
    const calledBefore = hook.calls.length;
    const sent = await other.inject({ method: 'POST', url: '/picker/send', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, payload: body.toString() });
    assert.equal(sent.statusCode, 200, sent.body.slice(-400));
    // The receiver has the call (and answers in 4 s).
    await eventually(async () => (hook.calls.length > calledBefore ? true : undefined));
    await other.close();
    const calls = (await h.control('GET', `/apps/${w.app.id}/sharing_webhook/calls`)).calls;
    assert.deepEqual(
      calls.map((c: { status: number | null; error: string }) => [c.status, c.error]),
      [[null, 'not finished: Kapibara was stopped']],
    );
  });

  /** A share opened by the sender and its picker, with the sender's session (signed in once per test). */
  async function pickerOf(w: Awaited<ReturnType<typeof sharingWorld>>, session?: string): Promise<{ session: string; picker: string }> {
    const opened = await postLink(v2Fields(w.app, SEED_TEMPLATES.text));
    if (!session) return (({ cookie, picker }) => ({ session: cookie, picker: picker.body }))(await signIn(opened, w.sender));
    const picker = await h.inject({ method: 'GET', url: String(opened.headers.location), headers: { cookie: session } });
    assert.equal(picker.statusCode, 200, picker.body.slice(-400));
    return { session, picker: picker.body };
  }

  it('a share whose friend is deleted between its checks and its insert: refused on the picker as one sent after the delete, nothing stored, and it can be sent again', async () => {
    const w = await sharingWorld(h);
    const { session, picker } = await pickerOf(w);
    const hold = betweenCheckAndInsert(h.store, () => h.control('DELETE', `/accounts/${w.ryan.id}`));
    const res = await whileDeleting(hold, () => send(session, picker, ['me', `f${w.ryan.id}`]), () => 'the delete landed between the checks and the insert');
    assert.equal(res.statusCode, 400, res.body.slice(-400));
    assert.ok(res.body.includes('One of the chosen friends is not your Kakao Talk friend.'), res.body.slice(-400));
    assert.equal((await h.control('GET', `/accounts/${w.sender.id}/messages`)).total_count, 0, 'nothing stored, not even the memo');
    // Not sent, so not marked sent: the picker shown with the refusal sends it.
    assert.equal((await send(session, res.body, ['me'])).statusCode, 200);
    assert.equal((await h.control('GET', `/accounts/${w.sender.id}/messages`)).total_count, 1);
  });

  it('a share whose group member is deleted between its checks and its insert: the group gets it without them, once', async () => {
    const w = await sharingWorld(h);
    const { session, picker } = await pickerOf(w);
    const hold = betweenCheckAndInsert(h.store, () => h.control('DELETE', `/accounts/${w.apeach.id}`));
    const res = await whileDeleting(hold, () => send(session, picker, [`g${w.group.id}`]), () => 'the delete landed between the checks and the insert');
    assert.equal(res.statusCode, 200, res.body.slice(-400));
    const group = await h.control('GET', `/group_chats/${w.group.id}`);
    assert.deepEqual(group.member_account_ids, [w.sender.id, w.ryan.id]);
    for (const person of [w.sender, w.ryan]) {
      const messages = await h.control('GET', `/accounts/${person.id}/chats/g${w.group.id}/messages`);
      assert.equal(messages.total_count, 1, `${person.nickname} has the share once`);
    }
  });

  it('a share that meets a deleted group member on every attempt: nothing is sent, the picker says so (never a 500), and the share is not left marked sent', async () => {
    const w = await sharingWorld(h);
    const doomed: TestAccount[] = [];
    for (let i = 0; i < DELIVERY_ATTEMPTS + 2; i++) doomed.push(await h.createAccount({ nickname: `Doomed ${i}` }));
    const group = await h.control('POST', '/group_chats', { title: 'Shrinking', member_account_ids: [w.sender.id, w.ryan.id, ...doomed.map((d) => d.id)] });
    const { session, picker } = await pickerOf(w);
    // Each delivery of the share meets another member deleted (the test waits for none to run out).
    const hold = betweenCheckAndInsert(h.store, (n) => h.control('DELETE', `/accounts/${doomed[n - 1].id}`), Infinity);
    const res = await whileDeleting(hold, () => send(session, picker, ['me', `g${group.id}`]), () => 'every attempt met a delete', DELIVERY_ATTEMPTS);
    assert.equal(res.statusCode, 400, res.body.slice(-400));
    assert.equal(res.headers['content-type'], HTML_TYPE);
    assert.ok(res.body.includes('People in the chosen chats were deleted while the message was being sent, and nothing was sent. Pick the chats and send it again.'), res.body.slice(-600));
    assert.equal((await h.control('GET', `/group_chats/${group.id}/messages`)).total_count, 0, 'nothing stored');
    assert.equal((await h.control('GET', `/accounts/${w.sender.id}/messages`)).total_count, 0, 'not even the memo');
    // The picker shown with the error sends the share: it was not left marked sent.
    const again = await send(session, res.body, ['me', `g${group.id}`]);
    assert.equal(again.statusCode, 200, again.body.slice(-400));
    assert.equal((await h.control('GET', `/group_chats/${group.id}/messages`)).total_count, 1);
  });

  it("the picker's send refuses, in the order chosen, a chat that is not the person's: a stranger, a friend without Kakao Talk, a group they are not in, one that does not exist; nothing is sent", async () => {
    const w = await sharingWorld(h);
    const stranger = await h.createAccount({ nickname: 'Stranger' });
    const othersGroup = await h.control('POST', '/group_chats', { title: 'Not mine', member_account_ids: [w.ryan.id, w.apeach.id] });
    const notFriend = 'One of the chosen friends is not your Kakao Talk friend.';
    const notMember = 'You are not a member of one of the chosen group chats.';
    let { session, picker } = await pickerOf(w);
    for (const [receivers, refusal] of [
      [['me', `f${stranger.id}`], notFriend],
      [[`f${w.offline.id}`, `g${w.group.id}`], notFriend],
      [[`f${w.ryan.id}`, `g${othersGroup.id}`], notMember],
      [[`g${othersGroup.id}`, `f${stranger.id}`], notMember],
      [[`f${stranger.id}`, `g${othersGroup.id}`], notFriend],
      [[`g${Number.MAX_SAFE_INTEGER}`, `f${w.ryan.id}`], notMember],
      [[`f${w.sender.id}`], notFriend],
    ] as const) {
      const res = await send(session, picker, [...receivers]);
      assert.equal(res.statusCode, 400, `${receivers}: ${res.body.slice(-400)}`);
      assert.ok(res.body.includes(refusal), `${receivers}: ${res.body.slice(-400)}`);
      picker = res.body;
    }
    assert.equal((await h.control('GET', `/accounts/${w.sender.id}/messages`)).total_count, 0, 'nothing sent');
    // The picker shown with the last refusal still sends.
    const sent = await send(session, picker, [`f${w.apeach.id}`, `g${w.group.id}`]);
    assert.equal(sent.statusCode, 200, sent.body.slice(-400));
    assert.ok(sent.body.includes('The message was sent to Apeach, Dessert club.'), sent.body);
  });

  it("the picker's send reads only the chosen friends and group chats, by index, however many the person has", async () => {
    const w = await sharingWorld(h);
    for (let i = 0; i < 40; i++) {
      const friend = await h.createAccount({ nickname: `Friend ${i}` });
      await h.befriend(w.sender, friend);
      await h.control('POST', '/group_chats', { title: `Chat ${i}`, member_account_ids: [w.sender.id, friend.id] });
    }
    const { session, picker } = await pickerOf(w);
    assert.equal(picker.match(/data-receiver="[fg]\d+"/g)?.length, 3 + 2 * 40, 'the picker offers every friend and group chat');
    const { result: res, statements } = await statementsDuring(h.store, () => send(session, picker, [`f${w.ryan.id}`, `g${w.group.id}`]));
    assert.equal(res.statusCode, 200, res.body.slice(-400));
    const reads = statements.filter((s) => /^select/i.test(s.query.sql) && /"(friendships|talk_group_chats|talk_group_chat_members)"/.test(s.query.sql));
    const read = reads.map((s) => `${s.rows} rows: ${s.query.sql}`).join('\n');
    assert.ok(reads.length > 0, 'the send checks the chosen chats');
    // Ryan's friendship, the chosen chat, and its three members.
    assert.ok(reads.reduce((n, s) => n + s.rows, 0) <= 5, `read more than the chosen chats:\n${read}`);
    assertIndexed(await plansOfStatements(h.store.db, reads));
  });

  it('group chats on the control plane: members, title, errors; included in state export and reset', async () => {
    const w = await sharingWorld(h);
    const list = await h.control('GET', `/group_chats?account_id=${w.ryan.id}`);
    assert.deepEqual(list, [{ id: w.group.id, title: 'Dessert club', member_account_ids: [w.sender.id, w.ryan.id, w.apeach.id], created_at: list[0].created_at }]);
    const bad = [
      [{ title: 'x', member_account_ids: [w.sender.id] }, 400],
      [{ title: 'x', member_account_ids: [w.sender.id, w.sender.id] }, 400],
      [{ title: 'x', member_account_ids: [w.sender.id, 999999] }, 404],
      [{ title: 'x', member_account_ids: [w.sender.id, w.offline.id] }, 400],
      [{ title: '', member_account_ids: [w.sender.id, w.ryan.id] }, 400],
    ] as const;
    for (const [body, status] of bad) {
      const res = await h.inject({ method: 'POST', url: '/_kapibara/v1/group_chats', payload: body });
      assert.equal(res.statusCode, status, res.body);
      assert.equal(typeof res.json().error, 'string');
    }
    const state = await h.control('GET', '/state');
    assert.equal(state.talk_group_chats.length, 1);
    assert.equal(state.talk_group_chat_members.length, 3);
    await h.control('POST', '/reset');
    assert.equal((await h.inject({ method: 'GET', url: `/_kapibara/v1/group_chats/${w.group.id}` })).statusCode, 404);
    await h.control('PUT', '/state', state);
    assert.equal((await h.control('GET', `/group_chats/${w.group.id}`)).title, 'Dessert club');
    const hookBad = await h.inject({ method: 'PUT', url: `/_kapibara/v1/apps/${w.app.id}/sharing_webhook`, payload: { url: 'ftp://x', method: 'GET' } });
    assert.equal(hookBad.statusCode, 400);
  });
});
