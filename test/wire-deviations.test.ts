import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { LightMyRequestResponse } from 'fastify';
import { assertApiError, form, forEachStore, type TestAccount, type TestApp } from './helpers/harness.js';
import { storeKinds, withDurableStore } from './helpers/stores.js';
import { member, messagesOf, SEED_DOMAINS } from './talk-helpers.js';
import { jpeg, storyApp, storyUser, upload } from './fixtures/story.js';
import { listenTls } from '../src/core/tls.js';
import { seedDemo, DEMO_APP_ID } from '../src/demo.js';
import { migrateTo } from '../src/db/migrations/index.js';
import { openStore, type StoreOptions } from '../src/db/index.js';
import { buildApp } from '../src/app.js';

/**
 * Issue 9: where Kapibara differed from the platform for real clients (official SDK models,
 * the seeds' curl lines, OAuth/OIDC libraries). Each block pins the exact answer.
 */

const JSON_TYPE = 'application/json;charset=UTF-8';
const FORM_TYPE = 'application/x-www-form-urlencoded;charset=utf-8';
/** A request that came in as https://kapi.kakao.com (TLS listener or a proxy in front). */
const AS_HTTPS_KAPI = { host: 'kapi.kakao.com', 'x-forwarded-proto': 'https' };
const CALLBACK = 'http://localhost:3000/callback';

function bearer(token: string, extra: Record<string, string> = {}) {
  return { authorization: `Bearer ${token}`, ...extra };
}

function decodeJwt(jwt: string): Record<string, any> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

// ---------------------------------------------------------------------------------------
// 2. Form fields in a GET's body; POST parameters in the query

forEachStore('issue 9.2: a GET with a form body, POST params in the query', (h) => {
  async function seedPeople() {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', profile_image: 'optional', friends: 'optional', talk_message: 'optional' } });
    const images = (n: string) => ({ profile_image_url: `http://yyy.kakao.com/dn/${n}/img_640x640.jpg`, thumbnail_image_url: `http://yyy.kakao.com/${n}/img_110x110.jpg` });
    const viewer = await member(h, app, { nickname: 'xxx', ...images('x') });
    const a = await member(h, app, { nickname: 'yyy', ...images('y') });
    const b = await member(h, app, { nickname: 'zzz', ...images('z') });
    return { app, viewer, a, b };
  }

  function expectedProfiles(viewer: { user_id: number }, a: { user_id: number }, b: { user_id: number }) {
    const info = (id: number, n: string, nick: string) => ({
      user_id: id,
      nickname: nick,
      profile_image_url: `http://yyy.kakao.com/dn/${n}/img_640x640.jpg`,
      thumbnail_image_url: `http://yyy.kakao.com/${n}/img_110x110.jpg`,
    });
    return { viewer: info(viewer.user_id, 'x', 'xxx'), targets: [info(a.user_id, 'y', 'yyy'), info(b.user_id, 'z', 'zzz')] };
  }

  it("seed 003's curl -X GET … -d viewer_id=… -d target_ids=[…] for /v2/api/talk/profiles", async () => {
    const { app, viewer, a, b } = await seedPeople();
    const body = `viewer_id=${viewer.user_id}&viewer_id_type=user_id&target_ids=[${a.user_id},${b.user_id}]&target_id_type=user_id`;
    const res = await h.inject({
      method: 'GET',
      url: '/v2/api/talk/profiles',
      headers: { authorization: `KakaoAK ${app.admin_key}`, 'content-type': FORM_TYPE },
      payload: body,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.deepEqual(res.json(), expectedProfiles(viewer, a, b));

    // The same bytes over a real socket, as curl sends them.
    const origin = await h.listen();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${origin}/v2/api/talk/profiles`, {
        method: 'GET',
        headers: { authorization: `KakaoAK ${app.admin_key}`, 'content-type': FORM_TYPE, 'content-length': Buffer.byteLength(body) },
      }, (r) => {
        let text = '';
        r.on('data', (c) => (text += c));
        r.on('end', () => resolve({ status: r.statusCode!, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(JSON.parse(answer.body), expectedProfiles(viewer, a, b));

    // A missing parameter is still named.
    const missing = await h.inject({
      method: 'GET',
      url: '/v2/api/talk/profiles',
      headers: { authorization: `KakaoAK ${app.admin_key}`, 'content-type': FORM_TYPE },
      payload: 'target_id_type=user_id',
    });
    assertApiError(missing, 400, -2);
    assert.equal(missing.body, JSON.stringify({ msg: 'target_ids is required.', code: -2 }));
  });

  it('a GET body wins over the query and is never answered from a kept answer of the bare URL', async () => {
    const { viewer, a, b } = await seedPeople();
    await h.befriend(viewer, a);
    await h.befriend(viewer, b);
    const bare = await h.inject({ method: 'GET', url: '/v1/api/talk/friends?limit=1', headers: bearer(viewer.token) });
    assert.equal(bare.json().elements.length, 1);
    const withBody = await h.inject({
      method: 'GET',
      url: '/v1/api/talk/friends?limit=1',
      headers: bearer(viewer.token, { 'content-type': FORM_TYPE }),
      payload: 'limit=2',
    });
    assert.equal(withBody.statusCode, 200, withBody.body);
    assert.equal(withBody.json().elements.length, 2);
    // An empty body with the form content type (the JavaScript SDK on every GET) changes nothing.
    const sdk = await h.inject({ method: 'GET', url: '/v1/api/talk/friends?limit=1', headers: bearer(viewer.token, { 'content-type': 'application/x-www-form-urlencoded' }) });
    assert.equal(sdk.body, bare.body);
  });

  it('POST parameters in the query string (profiles by user list, memo send)', async () => {
    const { app, viewer, a, b } = await seedPeople();
    const query = new URLSearchParams({ viewer_id: String(viewer.user_id), viewer_id_type: 'user_id', target_ids: `[${a.user_id},${b.user_id}]`, target_id_type: 'user_id' });
    const res = await h.inject({ method: 'POST', url: `/v2/api/talk/profiles?${query}`, headers: { authorization: `KakaoAK ${app.admin_key}` } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.deepEqual(res.json(), expectedProfiles(viewer, a, b));

    const template = JSON.stringify({ object_type: 'text', text: 'in the query', link: { android_execution_params: 'a=1' } });
    const memo = await h.inject({ method: 'POST', url: `/v2/api/talk/memo/default/send?${new URLSearchParams({ template_object: template })}`, headers: bearer(viewer.token) });
    assert.equal(memo.statusCode, 200, memo.body);
    assert.equal(memo.body, JSON.stringify({ result_code: 0 }));
    assert.equal((await messagesOf(h, viewer, 'memo')).messages[0].template.text, 'in the query');
  });
});

// ---------------------------------------------------------------------------------------
// 3. Story content is always present

forEachStore('issue 9.3: Story content is always present', (h) => {
  it('a photo story posted without content answers content "" in mystory and mystories (seed 000 Python sample)', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    const uploaded = await upload(h, token, [{ name: 'file', filename: 'your_picture.jpeg', data: await jpeg(32, 32) }]);
    const posted = await h.kapi('POST', '/v1/api/story/post/photo', token, { image_url_list: uploaded.body });
    assert.equal(posted.statusCode, 200, posted.body);
    const id = posted.json().id;

    const one = await h.kapi('GET', '/v1/api/story/mystory', token, { id });
    assert.equal(one.statusCode, 200, one.body);
    assert.equal(one.headers['content-type'], JSON_TYPE);
    const story = one.json();
    assert.deepEqual(Object.keys(story), ['id', 'url', 'media_type', 'created_at', 'comment_count', 'like_count', 'content', 'media', 'comments', 'likes', 'permission']);
    assert.equal(story.content, '');

    const list = await h.kapi('GET', '/v1/api/story/mystories', token);
    assert.equal(list.statusCode, 200, list.body);
    const [first] = list.json();
    assert.deepEqual(first, {
      id,
      url: story.url,
      media_type: 'PHOTO',
      created_at: story.created_at,
      comment_count: 0,
      like_count: 0,
      content: '',
      media: story.media,
      permission: 'PUBLIC',
    });
  });
});

