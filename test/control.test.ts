import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/harness.js';

forEachStore('control plane', (h) => {
  it('creates apps with four distinct keys and people, and issues tokens without a browser', async () => {
    const app = await h.createApp({ name: 'Shop' });
    assert.equal(app.name, 'Shop');
    const keys = new Set([app.rest_api_key, app.native_key, app.javascript_key, app.admin_key]);
    assert.equal(keys.size, 4);
    for (const k of keys) assert.match(k, /^[0-9a-f]{32}$/);
    const person = await h.createAccount({ nickname: 'Ryan', email: 'ryan@example.com' });
    const tokens = await h.token(app, person, ['profile_nickname']);
    assert.equal(tokens.scope, 'profile_nickname');
    assert.ok(tokens.user_id > 0 && tokens.user_id <= Number.MAX_SAFE_INTEGER);
    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    assert.deepEqual(link.scopes, ['profile_nickname']);
  });

  it('rejects bad input with 400 and a message, never a 500', async () => {
    let res = await h.inject({ method: 'POST', url: '/_kapibara/v1/apps', payload: { consent_items: { nope: 'required' } } });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error, /unknown consent item "nope"/);
    res = await h.inject({ method: 'POST', url: '/_kapibara/v1/apps', payload: { login_enabled: 'maybe' } });
    assert.equal(res.statusCode, 400);
    assert.ok(res.json().error);
    await h.createAccount({ email: 'dup@example.com' });
    res = await h.inject({ method: 'POST', url: '/_kapibara/v1/accounts', payload: { email: 'dup@example.com' } });
    assert.equal(res.statusCode, 409);
    res = await h.inject({ method: 'GET', url: '/_kapibara/v1/apps/12345' });
    assert.equal(res.statusCode, 404);
  });

  it('every route with an app or person id in its path refuses an id past 2^53 with a 400 naming it, never a 500', async () => {
    // Found by the fuzz on PostgreSQL: /apps/99999999999999999999/push/tokens reached the
    // database as a bigint out of range and answered 500.
    const doc = (await h.inject({ method: 'GET', url: '/_kapibara/openapi.json' })).json();
    const huge = '99999999999999999999';
    let checked = 0;
    for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      if (!path.startsWith('/_kapibara/v1/') || !/\{(app_id|account_id)\}/.test(path)) continue;
      for (const method of Object.keys(operations)) {
        const url = path.replace(/\{[a-z_]+\}/g, (m) => (m === '{app_id}' || m === '{account_id}' ? huge : 'x'));
        const res = await h.inject({ method: method.toUpperCase() as 'GET', url, headers: { 'x-kapibara-control': '1' }, ...(method === 'get' || method === 'delete' ? {} : { payload: {} }) });
        assert.equal(res.statusCode, 400, `${method.toUpperCase()} ${url}: ${res.body}`);
        assert.match(res.json().error, /app_id|account_id/, `${method.toUpperCase()} ${url}`);
        checked++;
      }
    }
    assert.ok(checked >= 20, `${checked} routes checked`);
  });

  it('exports, resets and imports all state in one format', async () => {
    const app = await h.createApp({ name: 'Exported' });
    const a = await h.createAccount({ nickname: 'A' });
    const b = await h.createAccount({ nickname: 'B' });
    await h.befriend(a, b, true);
    const t = await h.token(app, a);
    const state = await h.control('GET', '/state');
    assert.equal(state.version, 1);
    assert.equal(state.apps.length, 1);
    assert.deepEqual(state.apps[0].redirect_uris, ['http://localhost:3000/callback']);
    assert.equal(state.friendships.length, 2);

    await h.control('POST', '/reset');
    assert.deepEqual(await h.control('GET', '/apps'), []);
    const empty = await h.control('GET', '/state');
    assert.equal(empty.access_tokens.length, 0);
    assert.ok(t.access_token);

    await h.control('PUT', '/state', state);
    const apps = await h.control('GET', '/apps');
    assert.equal(apps[0].rest_api_key, app.rest_api_key);
    const back = await h.control('GET', '/state');
    assert.deepEqual(back, state);
  });

  it('imports a short hand-written seed, filling defaults', async () => {
    const res = await h.control('POST', '/state', {
      apps: [{ id: 77, name: 'Seeded', redirect_uris: ['http://localhost/cb'] }],
      accounts: [{ id: 5, email: 'five@example.com', nickname: 'Five' }],
      app_users: [{ app_id: 77, account_id: 5, scopes: ['profile_nickname'] }],
    });
    assert.deepEqual(
      { apps: res.imported.apps, accounts: res.imported.accounts, app_users: res.imported.app_users },
      { apps: 1, accounts: 1, app_users: 1 },
    );
    const app = await h.control('GET', '/apps/77');
    assert.match(app.rest_api_key, /^[0-9a-f]{32}$/);
    const link = await h.control('GET', '/apps/77/users/5');
    assert.deepEqual(link.scopes, ['profile_nickname']);
    const bad = await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: { nonsense: [] } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /unknown table "nonsense"/);
    const badRow = await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: { accounts: [{ id: 5 }] } });
    assert.equal(badRow.statusCode, 400);
  });

  it('an app key is unique across every key of every app: 409 on create and change, 400 on import, and the older app keeps its key', async () => {
    const first = await h.createApp({ name: 'First' });
    const taken = await h.inject({ method: 'POST', url: '/_kapibara/v1/apps', payload: { rest_api_key: first.admin_key } });
    assert.deepEqual([taken.statusCode, taken.json()], [409, { error: `app: duplicate key: ${first.admin_key} is already a key of app ${first.id}` }]);
    const second = await h.createApp({ name: 'Second' });
    const changed = await h.inject({ method: 'PATCH', url: `/_kapibara/v1/apps/${second.id}`, payload: { javascript_key: first.rest_api_key } });
    assert.equal(changed.statusCode, 409, changed.body);
    const twice = await h.inject({ method: 'POST', url: '/_kapibara/v1/apps', payload: { rest_api_key: 'a'.repeat(32), admin_key: 'a'.repeat(32) } });
    assert.equal(twice.statusCode, 409, twice.body);
    // The same key again in its own column is fine (a PATCH that repeats it).
    assert.equal((await h.inject({ method: 'PATCH', url: `/_kapibara/v1/apps/${second.id}`, payload: { admin_key: second.admin_key } })).statusCode, 200);
    const imported = await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: { version: 1, apps: [{ id: 6001, name: 'Clash', rest_api_key: first.admin_key }] } });
    assert.equal(imported.statusCode, 400, imported.body);
    assert.match(imported.json().error, /^apps\[0\]: duplicate key/);
    const full = (await h.control('GET', '/state')).apps.find((a: { id: number }) => a.id === second.id);
    const clash = await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: { version: 1, apps: [{ ...full, id: 6002, rest_api_key: 'b'.repeat(32), native_key: 'c'.repeat(32), javascript_key: 'd'.repeat(32), admin_key: first.native_key }] } });
    assert.equal(clash.statusCode, 400, clash.body);
    assert.match(clash.json().error, /the key .* is used twice/);
    assert.deepEqual((await h.control('GET', '/apps')).map((a: { id: number }) => a.id), [first.id, second.id]);
    const admin = await h.kapiKey('GET', '/v1/user/ids', first.admin_key);
    assert.equal(admin.statusCode, 200, admin.body);
  });

  it('PUT /state takes back an export larger than other bodies may be (12 MB)', async () => {
    await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: { version: 1, settings: [{ key: 'bulk', value: 'x'.repeat(13 * 1024 * 1024) }] } });
    const exported = await h.inject({ method: 'GET', url: '/_kapibara/v1/state' });
    assert.ok(exported.body.length > 13 * 1024 * 1024);
    const back = await h.inject({ method: 'PUT', url: '/_kapibara/v1/state', headers: { 'content-type': 'application/json' }, payload: exported.body });
    assert.equal(back.statusCode, 200, back.body.slice(0, 200));
    const other = await h.inject({ method: 'POST', url: '/_kapibara/v1/apps', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(13 * 1024 * 1024) }) });
    assert.equal(other.statusCode, 413);
  });

  it('web_domains: an entry no page can match is refused (400 naming it and the form to write) on create, change and import; valid entries keep their meaning', async () => {
    const never: [string, string][] = [
      ['localhost:3000', 'web_domains entry "localhost:3000" can never match a page: a host with a port needs its scheme: write http://localhost:3000 or https://localhost:3000'],
      ['*.daum.net', 'web_domains entry "*.daum.net" can never match a page: wildcards are not supported: register each host (a host name such as daum.net covers that host only, not its subdomains) or each origin (https://m.daum.net)'],
      ['https://*.daum.net', 'web_domains entry "https://*.daum.net" can never match a page: wildcards are not supported: register each host (a host name such as daum.net covers that host only, not its subdomains) or each origin (https://m.daum.net)'],
      ['not a domain!!', 'web_domains entry "not a domain!!" can never match a page: write an origin such as http://localhost:3000 (scheme, host and optional port) or a host name such as shop.example'],
      ['', 'web_domains entry "" can never match a page: write an origin such as http://localhost:3000 (scheme, host and optional port) or a host name such as shop.example'],
      ['http://sh op.example', 'web_domains entry "http://sh op.example" can never match a page: write an origin such as http://localhost:3000 (scheme, host and optional port) or a host name such as shop.example'],
      ['ftp://x.test', 'web_domains entry "ftp://x.test" can never match a page: only http and https pages are matched: write http://x.test or https://x.test'],
      ['bücher.example', 'web_domains entry "bücher.example" can never match a page: a page\'s host is written xn--bcher-kva.example: write that, or an origin such as https://xn--bcher-kva.example'],
      ['user@shop.example', 'web_domains entry "user@shop.example" can never match a page: a page\'s host is written shop.example: write that, or an origin such as https://shop.example'],
    ];
    const app = await h.createApp({ name: 'Domains', web_domains: ['http://localhost:3000'] });
    for (const [entry, error] of never) {
      const created = await h.inject({ method: 'POST', url: '/_kapibara/v1/apps', payload: { name: 'wd', web_domains: ['https://shop.example', entry] } });
      assert.deepEqual([created.statusCode, created.json()], [400, { error }], entry);
      const patched = await h.inject({ method: 'PATCH', url: `/_kapibara/v1/apps/${app.id}`, payload: { web_domains: [entry] } });
      assert.deepEqual([patched.statusCode, patched.json()], [400, { error }], entry);
      const imported = await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: { version: 1, apps: [{ id: 5009, web_domains: [entry] }] } });
      assert.deepEqual([imported.statusCode, imported.json()], [400, { error: `apps[0].web_domains: ${error.slice('web_domains '.length)}` }], entry);
    }
    assert.deepEqual((await h.control('GET', `/apps/${app.id}`)).web_domains, ['http://localhost:3000']);
    assert.deepEqual((await h.control('GET', '/apps')).map((a: { id: number }) => a.id), [app.id]);
    // Valid entries are stored as written and match as before: an origin by scheme, host and
    // port (a path is ignored); a host name by that host alone, with any scheme and port.
    const valid = ['http://localhost:3000/', 'HTTPS://Shop.Example', 'daum.net', ' m.daum.net ', 'http://127.0.0.1:8080', '[::1]', 'https://xn--bcher-kva.example', 'https://bücher.example', 'www.daum.net/path'];
    const ok = await h.control('PATCH', `/apps/${app.id}`, { web_domains: valid });
    assert.deepEqual(ok.web_domains, valid);
    const imported = await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: { version: 1, apps: [{ id: 5010, name: 'imported', web_domains: valid }] } });
    assert.equal(imported.statusCode, 200, imported.body);
  });

  it('state rows are held to the control plane\'s rules for the same fields; nothing is written when one fails', async () => {
    const app = await h.createApp({ name: 'Rules' });
    const person = await h.createAccount();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ apps: [{ id: 5001, redirect_uris: Array.from({ length: 11 }, (_, i) => `http://localhost/${i}`) }] }, /^apps\[0\]\.redirect_uris: /],
      [{ apps: [{ id: 5002, consent_items: { profile_nickname: 'maybe' } }] }, /^apps\[0\]\.consent_items: /],
      [{ apps: [{ id: -8 }] }, /^apps\[0\]\.id: /],
      [{ accounts: [{ id: 7001, gender: 'other' }] }, /^accounts\[0\]\.gender: /],
      [{ accounts: [{ id: 7002, birthday: 'abcd' }] }, /^accounts\[0\]\.birthday: /],
      [{ accounts: [{ id: -7 }] }, /^accounts\[0\]\.id: /],
      [{ app_users: [{ app_id: app.id, account_id: person.id, properties: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v'])) }] }, /^app_users\[0\]\.properties: /],
      [{ app_users: [{ app_id: app.id, account_id: person.id, properties: { ['k'.repeat(65)]: 'v' } }] }, /^app_users\[0\]\.properties: property name/],
    ];
    for (const [doc, error] of cases) {
      const res = await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: { version: 1, ...doc } });
      assert.equal(res.statusCode, 400, JSON.stringify(doc).slice(0, 100));
      assert.match(res.json().error, error);
    }
    assert.deepEqual((await h.control('GET', '/apps')).map((a: { id: number }) => a.id), [app.id]);
    // The control plane's own link route holds property names to 64 characters too.
    const link = await h.inject({ method: 'PUT', url: `/_kapibara/v1/apps/${app.id}/users/${person.id}`, payload: { properties: { ['k'.repeat(65)]: 'v' } } });
    assert.equal(link.statusCode, 400, link.body);
  });

  it('a row referring to a missing row names the field and the row it refers to, on both stores (docs/state-format.md)', async () => {
    const person = await h.createAccount();
    const res = await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: { version: 1, app_users: [{ app_id: 5, account_id: person.id }] } });
    assert.deepEqual([res.statusCode, res.json()], [400, { error: 'app_users[0].app_id: refers to apps 5, which does not exist' }]);
  });

  it('control-plane details: an unknown field is named, a bodiless POST is {}, and a DELETE of what is not there is a 404', async () => {
    const typo = await h.inject({ method: 'POST', url: '/_kapibara/v1/apps', payload: { nmae: 'Shop' } });
    assert.deepEqual([typo.statusCode, typo.json()], [400, { error: 'invalid body: unknown field "nmae"' }]);
    const app = await h.createApp();
    const person = await h.createAccount();
    const bodiless = await h.inject({ method: 'POST', url: `/_kapibara/v1/apps/${app.id}/users/${person.id}/tokens`, headers: { 'x-kapibara-control': '1' } });
    assert.equal(bodiless.statusCode, 200, bodiless.body);
    assert.ok(bodiless.json().access_token);
    const unlinked = await h.inject({ method: 'DELETE', url: `/_kapibara/v1/apps/${app.id}/users/${person.id}`, headers: { 'x-kapibara-control': '1' } });
    assert.equal(unlinked.statusCode, 204);
    const again = await h.inject({ method: 'DELETE', url: `/_kapibara/v1/apps/${app.id}/users/${person.id}`, headers: { 'x-kapibara-control': '1' } });
    assert.deepEqual([again.statusCode, again.json()], [404, { error: `account ${person.id} is not linked to app ${app.id}` }]);
    const noApp = await h.inject({ method: 'DELETE', url: `/_kapibara/v1/apps/999/users/${person.id}`, headers: { 'x-kapibara-control': '1' } });
    assert.equal(noApp.statusCode, 404);
    const friend = await h.createAccount();
    await h.befriend(person, friend);
    const body = { account_id: person.id, friend_account_id: friend.id };
    assert.equal((await h.inject({ method: 'DELETE', url: '/_kapibara/v1/friendships', payload: body })).statusCode, 204);
    const none = await h.inject({ method: 'DELETE', url: '/_kapibara/v1/friendships', payload: body });
    assert.deepEqual([none.statusCode, none.json()], [404, { error: `accounts ${person.id} and ${friend.id} are not friends` }]);
  });

  it('replacing the state with a document that fails changes nothing', async () => {
    const app = await h.createApp({ name: 'Survivor' });
    const res = await h.inject({
      method: 'PUT',
      url: '/_kapibara/v1/state',
      payload: { accounts: [{ id: 1, email: 'a@example.com' }, { id: 2, email: 'a@example.com' }] },
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error, /^accounts\[1\]/);
    const apps = await h.control('GET', '/apps');
    assert.deepEqual(apps.map((a: { id: number }) => a.id), [app.id]);
  });

  it('keeps null as null and does not coerce JSON bodies', async () => {
    const person = await h.createAccount({ name: 'Named', thumbnail_image_url: 'https://example.com/t.png' });
    const cleared = await h.control('PATCH', `/accounts/${person.id}`, { name: null, thumbnail_image_url: null });
    assert.equal(cleared.name, null);
    assert.equal(cleared.thumbnail_image_url, null);
    const res = await h.inject({ method: 'POST', url: '/_kapibara/v1/accounts', payload: { talk_user: 'yes' } });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error, /talk_user/);
  });

  it('moves the clock', async () => {
    const before = await h.control('GET', '/clock');
    const after = await h.control('POST', '/clock', { advance_seconds: 3600 });
    assert.equal(after.offset_ms, before.offset_ms + 3_600_000);
  });

  it('refuses a clock change it cannot make as asked, naming why, and changes nothing', async () => {
    for (const [body, error] of [
      [{ now: '2030-01-01T23:59:60Z' }, 'now: "2030-01-01T23:59:60Z" is not a time the clock can show (second 60, a leap second, has no time of its own).'],
      [{ now: '2030-01-01T00:00:00Z', offset_ms: 5000 }, 'give offset_ms or now, not both: each sets the clock.'],
      [{ advance_seconds: 0.0001 }, 'advance_seconds must be whole milliseconds, at most three decimals (0.0001 is not).'],
      [{ offset_ms: 1.5 }, 'offset_ms must be whole milliseconds (1.5 is not).'],
      [{ now: '2030-01-01T00:00:00.0001Z' }, 'now: "2030-01-01T00:00:00.0001Z" is finer than the clock\'s millisecond: give at most three decimals.'],
    ] as const) {
      const res = await h.inject({ method: 'POST', url: '/_kapibara/v1/clock', payload: body });
      assert.equal(res.statusCode, 400, res.body);
      assert.deepEqual(res.json(), { error }, JSON.stringify(body));
    }
    assert.equal((await h.control('GET', '/clock')).offset_ms, 0);
    // An imported offset is whole milliseconds too.
    for (const value of ['1.5', 'abc']) {
      const res = await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: { version: 1, settings: [{ key: 'clock_offset_ms', value }] } });
      assert.equal(res.statusCode, 400, res.body);
      assert.deepEqual(res.json(), { error: `settings.clock_offset_ms: ${JSON.stringify(value)} is not a whole number of milliseconds` });
    }
    // Milliseconds written as decimal seconds, and a time with an advance, are what they say.
    assert.equal((await h.control('POST', '/clock', { advance_seconds: 1.001 })).offset_ms, 1001);
    const moved = await h.control('POST', '/clock', { now: '2030-01-01T00:00:00Z', advance_seconds: 60 });
    assert.equal(moved.now.slice(0, 19), '2030-01-01T00:01:00');
  });
});
