import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { forEachStore, type Harness } from './helpers/harness.js';
import { beforeInsertInto, whileDeleting } from './helpers/deletes.js';

/**
 * The channel pages without a browser: the sign-in round trip and its open-redirect guard,
 * unknown channels, the follow flow's redirect_uri, Cancel and errors, a blocked chat.
 */

forEachStore('Kakao Talk Channel pages', (h) => {
  async function setup(h: Harness) {
    const app = await h.createApp({ name: 'Shop', redirect_uris: ['http://localhost:3000/channel-done'], consent_items: { profile_nickname: 'required', plusfriends: 'optional' } });
    const person = await h.createAccount({ nickname: 'Jay', email: 'jay@example.com' });
    await h.control('POST', '/channels', { app_id: app.id, public_id: '_shop01', search_id: '@shop', name: 'Shop channel' });
    return { app, person };
  }

  /** The cookies a response sets, as a Cookie header (with those already held). */
  function cookies(res: { headers: Record<string, unknown> }, held = ''): string {
    const jar = new Map(held ? held.split('; ').map((c) => [c.split('=')[0], c] as [string, string]) : []);
    const set = res.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [String(set)] : []) jar.set(c.split('=')[0], c.split(';')[0]);
    return [...jar.values()].join('; ');
  }

  /** The sign-in page, then its form (with the page's token and cookie). */
  async function signIn(personId: number, continueTo: string): Promise<{ cookie: string; location: string }> {
    const page = await h.inject({ method: 'GET', url: `/login?continue=${encodeURIComponent(continueTo)}` });
    const held = cookies(page);
    const res = await h.inject({
      method: 'POST',
      url: '/login',
      headers: { cookie: held, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ account_id: String(personId), continue: continueTo, csrf_token: csrf(page.body) }).toString(),
    });
    assert.equal(res.statusCode, 303, res.body);
    const cookie = cookies(res, held);
    assert.match(cookie, /kapibara_session=/);
    return { cookie, location: String(res.headers.location) };
  }

  const csrf = (body: string) => /name="csrf_token" value="([^"]+)"/.exec(body)![1];
  const post = (url: string, cookie: string, fields: Record<string, string>) =>
    h.inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() });

  it('not signed in: 302 to /login?continue=<the page>; signing in goes back there, and only ever to a path of this origin', async () => {
    const { person } = await setup(h);
    const res = await h.inject({ method: 'GET', url: '/_shop01/friend?app_key=k&api_ver=1.0' });
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, `/login?continue=${encodeURIComponent('/_shop01/friend?app_key=k&api_ver=1.0')}`);
    const page = await h.inject({ method: 'GET', url: String(res.headers.location) });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, new RegExp(`data-account-id="${person.id}"`));
    assert.equal((await signIn(person.id, '/_shop01/friend?app_key=k&api_ver=1.0')).location, '/_shop01/friend?app_key=k&api_ver=1.0');
    assert.equal((await signIn(person.id, 'https://evil.example/')).location, '/');
    assert.equal((await signIn(person.id, '//evil.example/')).location, '/');
    // Browsers drop tabs and newlines from a URL and read a backslash as a slash: each of these
    // would be //evil.example to them.
    for (const sneaky of ['/\t/evil.example/phish', '/\n/evil.example/', '/\\evil.example/', '\t//evil.example/', '/\t\\evil.example/']) {
      const location = (await signIn(person.id, sneaky)).location;
      assert.equal(new URL(location, 'http://kapibara.test/').origin, 'http://kapibara.test', JSON.stringify([sneaky, location]));
      assert.doesNotMatch(location, /[\t\n\\]/);
    }
    assert.equal((await signIn(person.id, '/a b?x=1#f')).location, '/a%20b?x=1#f');
    const form = await h.inject({ method: 'GET', url: '/login?continue=/x' });
    const wrong = await h.inject({
      method: 'POST',
      url: '/login',
      headers: { cookie: cookies(form), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email: 'jay@example.com', password: 'no', continue: '/x', csrf_token: csrf(form.body) }).toString(),
    });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /Incorrect email or password/);
    // Without the page's token (another site's form, a login CSRF): refused, nobody signed in.
    const forged = await h.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `account_id=${person.id}&continue=/x` });
    assert.equal(forged.statusCode, 403);
    assert.equal(forged.headers['set-cookie'], undefined);
    assert.match(String(forged.headers['content-security-policy']), /frame-ancestors 'none'/);
  });

  it('an unknown channel is a 404 page; the chat refuses messages while the channel is blocked', async () => {
    const { person } = await setup(h);
    const missing = await h.inject({ method: 'GET', url: '/_nothere/friend' });
    assert.equal(missing.statusCode, 404);
    assert.match(String(missing.headers['content-type']), /^text\/html/);
    assert.match(missing.body, /There is no Kakao Talk Channel _nothere\./);
    const { cookie } = await signIn(person.id, '/_shop01/chat');
    await h.control('PUT', `/channels/_shop01/relations/${person.id}`, { relation: 'BLOCKED' });
    const chat = await h.inject({ method: 'GET', url: '/_shop01/chat', headers: { cookie } });
    assert.equal(chat.statusCode, 200);
    const refused = await post('/_shop01/chat', cookies(chat, cookie), { csrf_token: csrf(chat.body), text: 'hello' });
    assert.equal(refused.statusCode, 403);
    assert.match(refused.body, /You blocked this channel/);
    assert.deepEqual(await h.control('GET', '/channels/_shop01/chats'), []);
  });

  it('follow with a registered redirect_uri: back with status=success; Cancel: status=fail; bad requests: KAE error pages', async () => {
    const { app, person } = await setup(h);
    const { cookie } = await signIn(person.id, '/');
    const query = new URLSearchParams({ app_key: app.javascript_key, channel_public_id: '_shop01', trans_id: 't1', redirect_uri: 'http://localhost:3000/channel-done', state: 's' });
    const page = await h.inject({ method: 'GET', url: `/talk/channel/follow?${query}`, headers: { cookie } });
    assert.equal(page.statusCode, 200, page.body);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    const fields = Object.fromEntries(query);
    let res = await post('/talk/channel/follow', cookies(page, cookie), { ...fields, csrf_token: csrf(page.body), action: 'cancel' });
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, 'http://localhost:3000/channel-done?status=fail&channel_public_id=_shop01&trans_id=t1&state=s');
    assert.equal((await h.control('GET', `/channels/_shop01/relations/${person.id}`)).relation, 'NONE');
    res = await post('/talk/channel/follow', cookies(page, cookie), { ...fields, csrf_token: csrf(page.body), action: 'follow' });
    assert.equal(res.headers.location, 'http://localhost:3000/channel-done?status=success&channel_public_id=_shop01&trans_id=t1&state=s');
    assert.equal((await h.control('GET', `/channels/_shop01/relations/${person.id}`)).relation, 'ADDED');
    // Already added: straight back with success.
    res = await h.inject({ method: 'GET', url: `/talk/channel/follow?${query}`, headers: { cookie } });
    assert.equal(res.headers.location, 'http://localhost:3000/channel-done?status=success&channel_public_id=_shop01&trans_id=t1&state=s');

    const error = async (q: Record<string, string>, code: string) => {
      const r = await h.inject({ method: 'GET', url: `/talk/channel/follow?${new URLSearchParams(q)}`, headers: { cookie } });
      assert.equal(r.statusCode, 400);
      assert.match(r.body, new RegExp(`id="error-code">${code}<`));
    };
    await error({ app_key: app.admin_key, channel_public_id: '_shop01' }, 'KAE001');
    await error({ app_key: app.javascript_key, channel_public_id: '_none00' }, 'KAE003');
    const other = await h.createApp({ name: 'Other' });
    await error({ app_key: other.javascript_key, channel_public_id: '_shop01' }, 'KAE004');
    await error({ app_key: app.javascript_key, channel_public_id: '_shop01', redirect_uri: 'https://evil.example/' }, 'KAE005');
    // A used or foreign AGT signs nobody in: without a session, the sign-in page.
    const anon = await h.inject({ method: 'GET', url: `/talk/channel/follow?${new URLSearchParams({ app_key: app.javascript_key, channel_public_id: '_shop01', agt: 'nope' })}` });
    assert.equal(anon.statusCode, 302);
    assert.match(String(anon.headers.location), /^\/login\?continue=/);
  });

  it('a chat message, an add or a follow whose channel or person is deleted while it is stored: answered as after the delete (404, KAE003, sign in), never a 500', async () => {
    const app = await h.createApp({ name: 'Shop', redirect_uris: ['http://localhost:3000/channel-done'] });
    const forms: { name: string; table: string; page: (id: string) => string; fields: Record<string, string> }[] = [
      { name: 'chat', table: 'channel_chat_messages', page: (id: string) => `/${id}/chat`, fields: { text: 'hello' } },
      { name: 'add', table: 'channel_relations', page: (id: string) => `/${id}/friend`, fields: {} },
      { name: 'follow', table: 'channel_relations', page: (id: string) => `/talk/channel/follow?${followQuery(id)}`, fields: { action: 'follow' } },
    ];
    const followQuery = (id: string) => new URLSearchParams({ app_key: app.javascript_key, channel_public_id: id, redirect_uri: 'http://localhost:3000/channel-done' });
    let n = 0;
    for (const form of forms) {
      for (const gone of ['channel', 'person'] as const) {
        const id = `_gone${n++}`;
        const person = await h.createAccount({ nickname: `Jay ${n}` });
        await h.control('POST', '/channels', { app_id: app.id, public_id: id, search_id: `@gone${n}`, name: 'Gone' });
        const { cookie } = await signIn(person.id, form.page(id));
        const page = await h.inject({ method: 'GET', url: form.page(id), headers: { cookie } });
        assert.equal(page.statusCode, 200, page.body);
        const action = form.name === 'follow' ? '/talk/channel/follow' : form.page(id);
        const extra = form.name === 'follow' ? Object.fromEntries(followQuery(id)) : {};
        // The delete lands after the page's checks (channel, sign-in, token), before its insert.
        const hold = beforeInsertInto(h.store, form.table, () => h.control('DELETE', gone === 'channel' ? `/channels/${id}` : `/accounts/${person.id}`));
        const res = await whileDeleting(hold, () => post(action, cookies(page, cookie), { ...extra, ...form.fields, csrf_token: csrf(page.body) }), (res) => `${form.name}, ${gone} gone: ${res.statusCode} ${res.body.slice(-300)}`);
        const what = `${form.name}, ${gone} gone: ${res.statusCode} ${res.body.slice(-300)}`;
        if (gone === 'person') {
          // Signed out with the person: to the sign-in page, and back to the page after.
          assert.equal(res.statusCode, form.name === 'follow' ? 303 : 302, what);
          assert.match(String(res.headers.location), /^\/login\?continue=/, what);
        } else if (form.name === 'follow') {
          assert.equal(res.statusCode, 400, what);
          assert.match(res.body, /id="error-code">KAE003</, what);
        } else {
          assert.equal(res.statusCode, 404, what);
          assert.match(res.body, new RegExp(`There is no Kakao Talk Channel ${id}\\.`), what);
        }
      }
    }
  });
});
