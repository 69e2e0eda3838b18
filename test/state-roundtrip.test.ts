import { after, before, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { exportStateText } from '../src/store/state.js';
import { cookiesOf, csrfTokenOf, forEachStore, form, type Harness, type TestApp, type TestAccount } from './helpers/harness.js';
import { multipart, png, site, upload } from './fixtures/story.js';
import { DEMO_APP_ID, seedDemo } from '../src/demo.js';
import { stateTables } from '../src/kapibara.js';

/**
 * Issue 14 item 11: `PUT /state` of an export restores the exact state. A rich state (the
 * demo, stories of every kind with uploads, comments and moods, messages, templates, Talk
 * profiles, shipping addresses, codes, sessions, AGTs, a moved clock) is exported, imported
 * over itself, and exported again; every table must have rows, both exports must be
 * equal, and every page and answer served from the state must be the same before and after.
 */

let web: Awaited<ReturnType<typeof site>>;
before(async () => {
  web = await site((req, res) => {
    if (req.url === '/article') {
      return res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<html><head><meta property="og:title" content="기사"><meta property="og:image" content="/a.jpg"><meta property="og:description" content="about"></head></html>');
    }
    res.writeHead(404).end();
  });
});
after(async () => web.close());

const CALLBACK = 'http://localhost:3000/oauth/callback';

function ok(res: LightMyRequestResponse, what: string): LightMyRequestResponse {
  assert.ok(res.statusCode < 300, `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`);
  return res;
}

/** Rows of every table, each table's rows in a canonical order (row order is not state). */
function canonical(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [table, rows] of Object.entries(doc)) {
    out[table] = Array.isArray(rows) ? rows.map((r) => JSON.stringify(r)).sort() : rows;
  }
  return out;
}

async function richState(h: Harness) {
  await seedDemo(h.store.db, h.clock.now());
  await h.control('PATCH', `/apps/${DEMO_APP_ID}`, {
    web_domains: ['http://localhost:3000', web.origin],
    user_property_keys: ['level'],
    consent_items: {
      profile_nickname: 'required', profile_image: 'optional', account_email: 'optional', gender: 'optional', birthday: 'optional',
      age_range: 'optional', friends: 'optional', talk_message: 'optional', story_read: 'optional', story_publish: 'optional',
      story_permalink: 'optional', plusfriends: 'optional', shipping_address: 'optional', phone_number: 'optional', name: 'optional', openid: 'optional',
    },
  });
  const app = await h.control<TestApp>('GET', `/apps/${DEMO_APP_ID}`);
  // A second app with the client secret on and manual signup.
  await h.createApp({ name: 'Secret app', client_secret: 'shh', manual_signup: true, oidc_enabled: true });
  const ryan = { id: 1001 } as TestAccount;
  const apeach = { id: 1002 } as TestAccount;
  const muzi = { id: 1003 } as TestAccount;
  const tRyan = (await h.token(app, ryan)).access_token;
  const tApeach = (await h.token(app, apeach)).access_token;
  await h.token(app, muzi);
  await h.control('PUT', `/apps/${app.id}/users/${ryan.id}`, { properties: { level: '7' }, terms: ['terms_of_service', 'marketing'] });

  // Kakao Talk: settings, a multi-profile shown to Apeach, messages (memo, friend, custom template).
  await h.control('PUT', `/accounts/${muzi.id}/talk`, { messages_blocked: true, country_iso: 'KR' });
  await h.control('POST', `/accounts/${ryan.id}/talk/profiles`, { nickname: 'Ryan at work', profile_image_url: null, shown_to: [apeach.id] });
  await h.control('PUT', `/apps/${app.id}/message_quotas`, { sender_daily: 100, sender_monthly: null, receiver_daily: 50, pair_daily: null });
  const link = { web_url: 'http://localhost:3000/a', mobile_web_url: 'http://localhost:3000/a' };
  ok(await h.kapi('POST', '/v2/api/talk/memo/default/send', tRyan, { template_object: { object_type: 'text', text: '메모', link } }), 'memo');
  const friends = ok(await h.kapi('GET', '/v1/api/talk/friends', tRyan), 'friends').json();
  const apeachUuid = friends.elements.find((f: { profile_nickname: string }) => f.profile_nickname === 'Apeach').uuid;
  ok(
    await h.kapi('POST', '/v1/api/talk/friends/message/default/send', tRyan, {
      receiver_uuids: [apeachUuid],
      template_object: { object_type: 'feed', content: { title: '안녕', image_url: 'http://localhost:3000/i.png', link }, buttons: [{ title: '보기', link }] },
    }),
    'friends send',
  );
  const template = await h.control('POST', `/apps/${app.id}/templates`, { name: 'Article', template: { object_type: 'text', text: '${TITLE}', link } });
  ok(await h.kapi('POST', '/v2/api/talk/memo/send', tRyan, { template_id: template.id, template_args: { TITLE: '제목' } }), 'custom memo');

  // Kakao Story: a profile with overrides, note, photo (uploads), link (scraped) and an in-app story; comments and moods.
  await h.control('PUT', `/accounts/${ryan.id}/story-profile`, { nickname: 'Ryan Story', bg_image_url: 'http://localhost/bg.png' });
  const picture = await png(64, 48);
  const uploaded = ok(await upload(h, tRyan, [{ name: 'file', filename: 'a.png', contentType: 'image/png', data: picture }]), 'upload').json();
  const note = ok(await h.kapi('POST', '/v1/api/story/post/note', tRyan, { content: 'note', permission: 'F', enable_share: true, android_exec_param: 'a=1', ios_market_param: 'm=2' }), 'note').json();
  const photo = ok(await h.kapi('POST', '/v1/api/story/post/photo', tRyan, { content: 'photo', image_url_list: uploaded }), 'photo').json();
  const info = ok(await h.kapi('GET', '/v1/api/story/linkinfo', tRyan, { url: `${web.origin}/article` }), 'linkinfo').json();
  const linkStory = ok(await h.kapi('POST', '/v1/api/story/post/link', tRyan, { content: 'link', link_info: info }), 'link').json();
  const inApp = await h.control('POST', `/accounts/${apeach.id}/stories`, { content: 'written in the Story app', permission: 'PUBLIC' });
  for (const story of [note.id, photo.id, linkStory.id]) {
    await h.control('POST', `/stories/${story}/comments`, { account_id: apeach.id, text: `comment on ${story}` });
    await h.control('PUT', `/stories/${story}/likes/${apeach.id}`, { emotion: 'LIKE' });
  }

  // User API: a shipping address; Login: an unused code, its login session, an AGT.
  await h.control('POST', `/accounts/${ryan.id}/shipping_addresses`, { name: 'Home', is_default: true, base_address: '판교역로 166', detail_address: null, zip_code: '13529' });
  const authorize = await h.inject({ method: 'GET', url: `/oauth/authorize?${new URLSearchParams({ client_id: app.rest_api_key, redirect_uri: CALLBACK, response_type: 'code' })}` });
  const start = authorize.body.indexOf('action="/oauth/authorize/login"');
  const fields: Record<string, string> = { account_id: String(ryan.id) };
  for (const m of authorize.body.slice(start, authorize.body.indexOf('</form>', start)).matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    if (m[1] !== 'account_id') fields[m[1]] = m[2].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }
  const login = await h.inject({ method: 'POST', url: '/oauth/authorize/login', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(authorize) }, payload: new URLSearchParams(fields).toString() });
  assert.equal(login.statusCode, 303, login.body);
  const cookie = cookiesOf(authorize, login);
  await h.inject({ method: 'GET', url: String(login.headers.location), headers: { cookie } });
  // A popup login's result waiting for SDK v2 to poll /apiweb/code.json (Ryan is signed in and has consented).
  const popupQuery = { client_id: app.javascript_key, redirect_uri: 'JS-SDK', response_type: 'code', auth_tran_id: 'R'.repeat(60), state: 'rt' };
  const popup = await h.inject({ method: 'GET', url: `/oauth/authorize?${new URLSearchParams(popupQuery)}`, headers: { cookie } });
  assert.equal(popup.statusCode, 200, popup.body);
  assert.match(popup.body, /data-field="code">/, 'the JS-SDK result page, not another consent');
  ok(await h.inject({ method: 'POST', url: '/api/agt', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ client_id: app.rest_api_key, access_token: tRyan }) }), 'agt');

  // Kakao Talk Channel: a channel linked to a second app, a relation, a chat message, a customer file with a customer.
  const other = await h.createApp({ name: 'Partner app' });
  await h.control('POST', '/channels', { app_id: app.id, public_id: '_rtrip1', search_id: '@roundtrip', name: 'Round trip', profile_image_url: 'http://localhost/ch.png' });
  await h.control('PUT', `/channels/_rtrip1/apps/${other.id}`);
  await h.control('PUT', `/channels/_rtrip1/relations/${apeach.id}`, { relation: 'BLOCKED' });
  const chat = await h.inject({ method: 'GET', url: '/_rtrip1/chat', headers: { cookie } });
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(chat.body)![1];
  const formCookie = String(chat.headers['set-cookie'] ?? '').split(';')[0];
  const chatCookie = [cookie, formCookie].filter(Boolean).join('; ');
  const sent = await h.inject({ method: 'POST', url: '/_rtrip1/chat', headers: { cookie: chatCookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ csrf_token: csrf, text: 'hello channel' }) });
  assert.equal(sent.statusCode, 303, sent.body);
  await h.control('PUT', `/channels/_rtrip1/relations/${ryan.id}`, { relation: 'ADDED' });
  const json = { authorization: `KakaoAK ${app.admin_key}`, 'content-type': 'application/json' };
  const file = ok(await h.inject({ method: 'POST', url: '/v1/talkchannel/create/target_user_file', headers: json, payload: { channel_public_id: '_rtrip1', file_name: 'VIP', schema: { tier: 'string', spent: 'number' } } }), 'customer file').json();
  ok(await h.inject({ method: 'POST', url: '/v1/talkchannel/update/target_users', headers: json, payload: { file_id: file.file_id, channel_public_id: '_rtrip1', user_type: 'phone', users: [{ id: '010-1234-5678', field: { tier: 'gold', spent: 12.5 } }] } }), 'customers');
  // Push: a token lifetime, a device, a delivered push.
  await h.control('PUT', `/apps/${app.id}/push`, { token_ttl_days: 60 });
  ok(await h.kapiKey('POST', '/v2/push/register', app.admin_key, { uuid: '77', device_id: 'phone', push_type: 'apns', push_token: 'c'.repeat(64) }), 'push register');
  ok(await h.kapiKey('POST', '/v2/push/send', app.admin_key, { uuids: '["77"]', push_message: JSON.stringify({ for_apns: { message: 'x'.repeat(5000), badge: 1 } }) }), 'push send');
  // Kakao Talk sharing: a group chat, the webhook, a validation, an image, a share sent through the sharer (its webhook call fails: nothing listens).
  const club = await h.control('POST', '/group_chats', { title: 'Club', member_account_ids: [ryan.id, apeach.id] });
  await h.control('PUT', `/apps/${app.id}/sharing_webhook`, { url: 'http://127.0.0.1:9/hook', method: 'POST' });
  ok(await h.kapiKey('GET', '/v2/api/kakaolink/talk/template/default', app.javascript_key, { link_ver: '4.0', template_object: { object_type: 'text', text: 'shared', link } }), 'sharing validation');
  const sharedImage = multipart([{ name: 'file', filename: 's.png', data: await png(8, 8) }]);
  ok(await h.inject({ method: 'POST', url: '/v2/api/talk/message/image/upload', headers: { authorization: `KakaoAK ${app.javascript_key}`, 'content-type': sharedImage.contentType }, payload: sharedImage.payload }), 'sharing image');
  const picker = await h.inject({
    method: 'POST',
    url: '/picker/link',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    payload: new URLSearchParams({ app_key: app.javascript_key, validation_action: 'default', validation_params: JSON.stringify({ link_ver: '4.0', template_object: { object_type: 'text', text: 'to the club', link } }), lcba: '{"k":"v"}' }).toString(),
  });
  ok(picker, 'sharer');
  const hiddenField = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(picker.body)![1];
  const shared = await h.inject({
    method: 'POST',
    url: '/picker/send',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    payload: new URLSearchParams({ short_key: hiddenField('short_key'), _csrf: hiddenField('_csrf'), receiver: `g${club.id}` }).toString(),
  });
  ok(shared, 'share sent');
  for (let i = 0; (await h.control('GET', `/apps/${app.id}/sharing_webhook/calls`)).calls.length === 0; i++) {
    assert.ok(i < 500, 'the webhook call is recorded');
    await new Promise((r) => setTimeout(r, 20));
  }

  await h.advanceClock(3600);
  return { app, tRyan, tApeach, stories: [note.id, photo.id, linkStory.id, inApp.id], image: uploaded };
}

/** Everything served from the state, as status + body (+ content type). */
async function answers(h: Harness, s: Awaited<ReturnType<typeof richState>>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const take = async (name: string, res: LightMyRequestResponse) => {
    const type = String(res.headers['content-type']);
    out[name] = `${res.statusCode} ${type} ${type.startsWith('image/') ? res.rawPayload.toString('base64') : res.body}`;
  };
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  for (const [who, t] of [['ryan', s.tRyan], ['apeach', s.tApeach]] as const) {
    for (const url of [
      '/v2/user/me', '/v2/user/me?secure_resource=true', '/v1/api/talk/profile', '/v1/api/talk/friends', '/v1/api/talk/friends?friend_order=favorite&order=desc',
      '/v1/api/story/profile', '/v1/api/story/mystories', '/v1/api/story/isstoryuser', '/v2/user/scopes', '/v2/user/service_terms',
      '/v1/user/shipping_address', '/v1/oidc/userinfo',
    ]) {
      await take(`${who} ${url}`, await h.inject({ method: 'GET', url, headers: bearer(t) }));
    }
    for (const id of s.stories) await take(`${who} mystory ${id}`, await h.inject({ method: 'GET', url: `/v1/api/story/mystory?id=${id}`, headers: bearer(t) }));
  }
  for (const id of s.stories) {
    const [handle, activity] = id.split('.');
    await take(`page ${id}`, await h.inject({ method: 'GET', url: `/story/${handle}/${activity}` }));
    await take(`page ${handle}`, await h.inject({ method: 'GET', url: `/story/${handle}` }));
    await take(`control story ${id}`, await h.inject({ method: 'GET', url: `/_kapibara/v1/stories/${id}` }));
  }
  for (const path of s.image as string[]) await take(`image ${path}`, await h.inject({ method: 'GET', url: path }));
  await take('console', await h.inject({ method: 'GET', url: '/_kapibara/console' }));
  const people = (await h.control<{ id: number }[]>('GET', '/accounts')).map((p) => p.id);
  for (const id of people) {
    await take(`console ${id}`, await h.inject({ method: 'GET', url: `/_kapibara/console/people/${id}` }));
    for (const url of [`/accounts/${id}`, `/accounts/${id}/friends`, `/accounts/${id}/talk`, `/accounts/${id}/stories`, `/accounts/${id}/chats`, `/accounts/${id}/messages`, `/accounts/${id}/story-profile`]) {
      await take(`control ${url}`, await h.inject({ method: 'GET', url: `/_kapibara/v1${url}` }));
    }
    await take(`link ${id}`, await h.inject({ method: 'GET', url: `/_kapibara/v1/apps/${s.app.id}/users/${id}` }));
  }
  for (const [who, t] of [['ryan', s.tRyan], ['apeach', s.tApeach]] as const) {
    await take(`${who} channels`, await h.inject({ method: 'GET', url: '/v2/api/talk/channels', headers: bearer(t) }));
  }
  await take('customer files', await h.inject({ method: 'GET', url: '/v1/talkchannel/target_user_file?channel_public_id=_rtrip1', headers: { authorization: `KakaoAK ${s.app.admin_key}` } }));
  await take('push tokens', await h.inject({ method: 'GET', url: '/v2/push/tokens?uuid=77', headers: { authorization: `KakaoAK ${s.app.admin_key}` } }));
  await take('console channels', await h.inject({ method: 'GET', url: '/_kapibara/console/channels' }));
  await take('console push', await h.inject({ method: 'GET', url: '/_kapibara/console/push' }));
  await take('friend page, signed out', await h.inject({ method: 'GET', url: '/_rtrip1/friend' }));
  for (const url of ['/apps', `/apps/${s.app.id}/templates`, `/apps/${s.app.id}/message_quotas`, '/channels', '/channels/_rtrip1/relations', '/channels/_rtrip1/files', '/channels/_rtrip1/chats', `/apps/${s.app.id}/push`, `/apps/${s.app.id}/push/tokens`, `/apps/${s.app.id}/push/inbox`]) {
    await take(`control ${url}`, await h.inject({ method: 'GET', url: `/_kapibara/v1${url}` }));
  }
  // The time itself moves on; the offset is state.
  out['clock offset'] = String((await h.control('GET', '/clock')).offset_ms);
  await take('jwks', await h.inject({ method: 'GET', url: '/.well-known/jwks.json' }));
  return out;
}

forEachStore('State: an export imported with PUT restores the exact state (issue 14 item 11)', (h) => {
  it('every table round-trips exactly, and every page and answer is the same after', async () => {
    const s = await richState(h);
    // Reading first: some reads create what they show (a Story profile on first look).
    const before = await answers(h, s);
    for (const [name, answer] of Object.entries(before)) assert.doesNotMatch(answer, /^5/, `${name} answers before the import`);
    const first = await h.control('GET', '/state');
    const empty = stateTables().map((spec) => spec.name).filter((name) => !(Array.isArray(first[name]) && first[name].length > 0));
    assert.deepEqual(empty, [], 'the rich state has rows in every table');

    await h.control('PUT', '/state', first);
    const second = await h.control('GET', '/state');
    assert.deepEqual(canonical(second), canonical(first));

    const afterImport = await answers(h, s);
    for (const name of Object.keys(before)) assert.equal(afterImport[name], before[name], `${name} is served the same after the import`);
  });

  it('what the APIs took imports again: limits count characters (an emoji is one) on the way in and on import', async () => {
    const emoji = '\u{1F600}';
    const person = await h.createAccount({ nickname: emoji.repeat(50) });
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', story_read: 'optional', story_publish: 'optional' } });
    const t = await h.token(app, person);
    await h.control('PATCH', `/accounts/${person.id}`, { story_user: true });
    const note = await h.kapi('POST', '/v1/api/story/post/note', t.access_token, { content: emoji.repeat(2048) });
    assert.equal(note.statusCode, 200, note.body);
    const state = await h.control('GET', '/state');
    const put = await h.inject({ method: 'PUT', url: '/_kapibara/v1/state', payload: state });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal((await h.control('GET', `/accounts/${person.id}`)).nickname, emoji.repeat(50));
    // One character more is refused on import as on the way in.
    (state.accounts as { id: number; nickname: string }[]).find((a) => a.id === person.id)!.nickname = emoji.repeat(51);
    const over = await h.inject({ method: 'PUT', url: '/_kapibara/v1/state', payload: state });
    assert.equal(over.statusCode, 400, over.body);
    assert.match(over.json().error, /nickname: must NOT have more than 50 characters/);
  });

  it('an export is written row by row, never as one string (V8 holds about 512 MB in one), and reads as JSON.stringify would write it', async () => {
    await richState(h);
    const pieces: string[] = [];
    for await (const piece of exportStateText(h.store.db, h.app.platform.tables, h.clock.now())) pieces.push(piece);
    const compact = pieces.join('');
    const doc = JSON.parse(compact);
    assert.equal(compact, JSON.stringify(doc));
    const largestRow = Math.max(...h.app.platform.tables.flatMap((t) => (doc[t.name] as unknown[]).map((r) => JSON.stringify(r).length)));
    assert.ok(Math.max(...pieces.map((p) => p.length)) <= largestRow + 1, 'no piece holds more than one row');
    let pretty = '';
    for await (const piece of exportStateText(h.store.db, h.app.platform.tables, h.clock.now(), true)) pretty += piece;
    assert.equal(pretty, JSON.stringify(doc, null, 2));
    const answer = await h.inject({ method: 'GET', url: '/_kapibara/v1/state' });
    assert.equal(answer.statusCode, 200);
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    assert.equal(answer.headers['content-length'], undefined, 'streamed');
    assert.equal(answer.body, compact);
  });

  it('null JSON columns stay SQL NULL; booleans, bigints and bytes keep their values and types', async () => {
    const s = await richState(h);
    const first = await h.control('GET', '/state');
    await h.control('PUT', '/state', first);
    const db = h.store.db;
    const nulls = await db.selectFrom('stories').select(['id', 'link_info']).where('link_info', 'is', null).execute();
    assert.ok(nulls.length >= 3, `note, photo and in-app stories have no link_info: ${JSON.stringify(nulls)}`);
    const texts = await db.selectFrom('stories').select('id').where('link_info', '=', 'null').execute();
    assert.deepEqual(texts, [], 'no JSON column holds the text null');
    const link = await db.selectFrom('stories').select('link_info').where('id', '=', s.stories[2]).executeTakeFirstOrThrow();
    assert.equal(JSON.parse(link.link_info!).title, '기사');
    const story = await db.selectFrom('stories').select(['seq', 'enable_share', 'created_at']).where('id', '=', s.stories[0]).executeTakeFirstOrThrow();
    assert.equal(typeof story.seq, 'number');
    assert.ok(story.seq > 2 ** 32, 'a bigint beyond 32 bits');
    assert.equal(story.enable_share, 1);
    const bytes = await db.selectFrom('story_image_files').select(['image_key', 'variant', 'bytes']).execute();
    const exported = first.story_image_files as { image_key: string; variant: string; bytes: string }[];
    for (const row of bytes) {
      const was = exported.find((e) => e.image_key === row.image_key && e.variant === row.variant)!;
      assert.equal(Buffer.from(row.bytes).toString('base64'), was.bytes);
    }
  });
});
