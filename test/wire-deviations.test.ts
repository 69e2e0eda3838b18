import { describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { LightMyRequestResponse } from 'fastify';
import { assertApiError, cookiesOf, csrfTokenOf, form, forEachStore, type TestAccount, type TestApp } from './helpers/harness.js';
import { storeKinds, withDurableStore } from './helpers/stores.js';
import { member, messagesOf, SEED_DOMAINS, talkApp } from './talk-helpers.js';
import { jpeg, storyApp, storyUser, upload } from './fixtures/story.js';
import { listenTls } from '../src/core/tls.js';
import { seedDemo, DEMO_APP_ID } from '../src/demo.js';
import { migrateTo } from '../src/db/migrations/index.js';
import type { StoreOptions } from '../src/db/index.js';
import { openStore, storeSchema } from '../src/kapibara.js';
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
// 1. Talk images are https only; Kapibara's own URLs follow the request's origin

forEachStore('issue 9.1: Talk profile and friend images are https only', (h) => {
  it('GET /v1/api/talk/profile answers https image URLs without secure_resource (seed 003)', async () => {
    const app = await talkApp(h);
    const person = await member(h, app, {
      nickname: 'Ryan',
      profile_image_url: 'http://xxx.kakao.co.kr/.../aaa.jpg',
      thumbnail_image_url: 'http://xxx.kakao.co.kr/.../bbb.jpg',
    });
    for (const query of ['', '?secure_resource=false', '?secure_resource=true']) {
      const res = await h.inject({ method: 'GET', url: `/v1/api/talk/profile${query}`, headers: bearer(person.token) });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], JSON_TYPE);
      assert.equal(
        res.body,
        JSON.stringify({
          id: person.user_id,
          nickName: 'Ryan',
          profileImageURL: 'https://xxx.kakao.co.kr/.../aaa.jpg',
          thumbnailURL: 'https://xxx.kakao.co.kr/.../bbb.jpg',
        }),
      );
    }
  });

  it('GET /v1/api/talk/friends answers https profile_thumbnail_image without secure_resource', async () => {
    const app = await talkApp(h);
    const me = await member(h, app, { nickname: 'Me' });
    const friend = await member(h, app, { nickname: 'Apeach', thumbnail_image_url: 'http://xxx.kakao.co.kr/.../aaa.jpg' });
    await h.befriend(me, friend, true);
    const res = await h.inject({ method: 'GET', url: '/v1/api/talk/friends', headers: bearer(me.token) });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.deepEqual(res.json(), {
      elements: [{ profile_nickname: 'Apeach', profile_thumbnail_image: 'https://xxx.kakao.co.kr/.../aaa.jpg', id: friend.user_id, uuid: friend.uuid, favorite: true }],
      total_count: 1,
      favorite_count: 1,
    });
  });
});

forEachStore('issue 9.1: absolute URLs Kapibara makes use the request origin', (h) => {
  /** Two people with Kapibara avatars: one stored as a path (as the demo seeds now), one as an earlier version stored it. */
  async function peopleWithAvatars(app: TestApp) {
    const ryan = await member(h, app, {
      nickname: 'Ryan',
      profile_image_url: '/_kapibara/avatars/ryan_640.png?initial=R',
      thumbnail_image_url: '/_kapibara/avatars/ryan_110.png?initial=R',
    }, ['profile_nickname', 'profile_image', 'friends', 'story_read', 'story_publish']);
    const apeach = await member(h, app, {
      nickname: 'Apeach',
      profile_image_url: 'http://localhost:9876/_kapibara/avatars/apeach_640.png?initial=A',
      thumbnail_image_url: 'http://localhost:9876/_kapibara/avatars/apeach_110.png?initial=A',
    });
    await h.befriend(ryan, apeach);
    return { ryan, apeach };
  }

  it('Talk profile, friends (with paging URLs) and profiles by user list, as https://kapi.kakao.com', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', profile_image: 'optional', friends: 'optional' } });
    const { ryan, apeach } = await peopleWithAvatars(app);
    const extra = await member(h, app, { nickname: 'Con' });
    await h.befriend(ryan, extra);

    let res = await h.inject({ method: 'GET', url: '/v1/api/talk/profile', headers: bearer(ryan.token, AS_HTTPS_KAPI) });
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.equal(
      res.body,
      JSON.stringify({
        id: ryan.user_id,
        nickName: 'Ryan',
        profileImageURL: 'https://kapi.kakao.com/_kapibara/avatars/ryan_640.png?initial=R',
        thumbnailURL: 'https://kapi.kakao.com/_kapibara/avatars/ryan_110.png?initial=R',
      }),
    );

    res = await h.inject({ method: 'GET', url: '/v1/api/talk/friends?limit=1&secure_resource=true', headers: bearer(ryan.token, AS_HTTPS_KAPI) });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      elements: [
        {
          profile_nickname: 'Apeach',
          profile_thumbnail_image: 'https://kapi.kakao.com/_kapibara/avatars/apeach_110.png?initial=A',
          id: apeach.user_id,
          uuid: apeach.uuid,
          favorite: false,
        },
      ],
      total_count: 2,
      after_url: 'https://kapi.kakao.com/v1/api/talk/friends?offset=1&limit=1&order=asc&secure_resource=true',
      favorite_count: 0,
    });

    // The same person reached over plain http on another address: that origin.
    res = await h.inject({ method: 'GET', url: '/v1/api/talk/profile', headers: bearer(apeach.token, { host: '127.0.0.1:9999' }) });
    assert.equal(res.json().thumbnailURL, 'http://127.0.0.1:9999/_kapibara/avatars/apeach_110.png?initial=A');

    // Admin: profiles by user list (the seed shows the platform's http CDN URLs kept as they are).
    res = await h.inject({
      method: 'GET',
      url: `/v2/api/talk/profiles?target_ids=[${apeach.user_id}]&target_id_type=user_id`,
      headers: { authorization: `KakaoAK ${app.admin_key}`, ...AS_HTTPS_KAPI },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      targets: [
        {
          user_id: apeach.user_id,
          nickname: 'Apeach',
          profile_image_url: 'https://kapi.kakao.com/_kapibara/avatars/apeach_640.png?initial=A',
          thumbnail_image_url: 'https://kapi.kakao.com/_kapibara/avatars/apeach_110.png?initial=A',
        },
      ],
    });
  });

  it('/v2/user/me and OIDC userinfo, as https://kapi.kakao.com and then as another host (answers kept per origin)', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', profile_image: 'optional', openid: 'optional' }, oidc_enabled: true });
    const { ryan } = await peopleWithAvatars(app);
    const token = (await h.token(app, ryan, ['profile_nickname', 'profile_image', 'openid'])).access_token;
    const me = async (headers: Record<string, string>) => {
      const res = await h.inject({ method: 'GET', url: '/v2/user/me?property_keys=["kakao_account.profile","properties.profile_image"]', headers: bearer(token, headers) });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    };
    const secure = await me(AS_HTTPS_KAPI);
    assert.deepEqual(secure.properties, { profile_image: 'https://kapi.kakao.com/_kapibara/avatars/ryan_640.png?initial=R' });
    assert.deepEqual(secure.kakao_account.profile, {
      nickname: 'Ryan',
      thumbnail_image_url: 'https://kapi.kakao.com/_kapibara/avatars/ryan_110.png?initial=R',
      profile_image_url: 'https://kapi.kakao.com/_kapibara/avatars/ryan_640.png?initial=R',
      is_default_image: false,
      is_default_nickname: false,
    });
    const local = await me({ host: 'localhost:4321' });
    assert.equal(local.kakao_account.profile.profile_image_url, 'http://localhost:4321/_kapibara/avatars/ryan_640.png?initial=R');
    assert.equal((await me(AS_HTTPS_KAPI)).kakao_account.profile.profile_image_url, 'https://kapi.kakao.com/_kapibara/avatars/ryan_640.png?initial=R');

    const info = await h.inject({ method: 'GET', url: '/v1/oidc/userinfo', headers: bearer(token, AS_HTTPS_KAPI) });
    assert.deepEqual(info.json(), { sub: String(ryan.user_id), nickname: 'Ryan', picture: 'https://kapi.kakao.com/_kapibara/avatars/ryan_640.png?initial=R' });
  });

  it('Story: profile, story and image URLs, and actor thumbnails, as https://kapi.kakao.com', async () => {
    const app = await storyApp(h);
    const { ryan } = await peopleWithAvatars(app);
    const token = (await h.token(app, ryan)).access_token;
    const profile = await h.inject({ method: 'GET', url: '/v1/api/story/profile', headers: bearer(token, AS_HTTPS_KAPI) });
    assert.equal(profile.statusCode, 200, profile.body);
    const p = profile.json();
    assert.equal(p.profileImageURL, 'https://kapi.kakao.com/_kapibara/avatars/ryan_640.png?initial=R');
    assert.equal(p.thumbnailURL, 'https://kapi.kakao.com/_kapibara/avatars/ryan_110.png?initial=R');
    assert.match(p.permalink, /^https:\/\/kapi\.kakao\.com\/story\/[0-9A-Za-z]{7}$/);

    const uploaded = await upload(h, token, [{ name: 'file', filename: 'a.jpg', data: await jpeg(64, 48) }]);
    const path = uploaded.json()[0];
    const posted = await h.kapi('POST', '/v1/api/story/post/photo', token, { image_url_list: [path] });
    assert.equal(posted.statusCode, 200, posted.body);
    const id = posted.json().id;
    await h.control('POST', `/stories/${id}/comments`, { account_id: ryan.id, text: 'mine' });
    const story = (await h.inject({ method: 'GET', url: `/v1/api/story/mystory?id=${id}`, headers: bearer(token, AS_HTTPS_KAPI) })).json();
    assert.equal(story.url, `https://kapi.kakao.com/story/${id.replace('.', '/')}`);
    const key = path.split('/img.')[0];
    assert.equal(story.media[0].original, `https://kapi.kakao.com${key}/img.jpg?width=64&height=48`);
    assert.equal(story.media[0].small, `https://kapi.kakao.com${key}/img_s.jpg?width=64&height=48`);
    assert.deepEqual(story.comments, [
      { text: 'mine', writer: { display_name: 'Ryan', profile_thumbnail_url: 'https://kapi.kakao.com/_kapibara/avatars/ryan_110.png?initial=R' } },
    ]);
  });

  it('the demo people: avatars stored as paths, answered on the TLS listener as https://kapi.kakao.com, and served there', async () => {
    assert.equal(await seedDemo(h.store.db, h.clock.now()), true);
    const stored = await h.control('GET', '/accounts?email=ryan%40kapibara.test');
    assert.equal(stored[0].profile_image_url, '/_kapibara/avatars/ryan_640.png?initial=R');
    assert.equal(stored[0].thumbnail_image_url, '/_kapibara/avatars/ryan_110.png?initial=R');
    const { access_token } = await h.control('POST', `/apps/${DEMO_APP_ID}/users/1001/tokens`, { scopes: ['profile_nickname', 'profile_image'] });

    const tls = await listenTls(h.app, { port: 0 });
    try {
      const get = (path: string, headers: Record<string, string> = {}) =>
        new Promise<{ status: number; type: string; body: Buffer }>((resolve, reject) => {
          const req = https.request(
            { host: '127.0.0.1', port: tls.port, path, servername: 'kapi.kakao.com', headers: { host: 'kapi.kakao.com', ...headers }, ca: tls.cert },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
            },
          );
          req.on('error', reject);
          req.end();
        });
      const res = await get('/v1/api/talk/profile', { authorization: `Bearer ${access_token}` });
      assert.equal(res.status, 200, res.body.toString());
      assert.equal(res.type, JSON_TYPE);
      assert.deepEqual(JSON.parse(res.body.toString()), {
        id: JSON.parse(res.body.toString()).id,
        nickName: 'Ryan',
        profileImageURL: 'https://kapi.kakao.com/_kapibara/avatars/ryan_640.png?initial=R',
        thumbnailURL: 'https://kapi.kakao.com/_kapibara/avatars/ryan_110.png?initial=R',
      });
      const image = await get(new URL(JSON.parse(res.body.toString()).thumbnailURL).pathname + '?initial=R');
      assert.equal(image.status, 200);
      assert.equal(image.type, 'image/png');
    } finally {
      await tls.close();
    }
  });
  // The https origin comes through a proxy the test declares (X-Forwarded-Proto from 127.0.0.1).
}, { trustProxy: ['127.0.0.1'] });

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

// ---------------------------------------------------------------------------------------
// 4. OpenID Connect

forEachStore('issue 9.4: OpenID Connect', (h) => {
  async function oidcApp(extra: Record<string, unknown> = {}) {
    return h.createApp({ oidc_enabled: true, consent_items: { profile_nickname: 'required', openid: 'optional' }, ...extra });
  }

  /** Login page → person → consent (agreeing to `scopes`) → the code. */
  async function loginCode(app: TestApp, person: TestAccount, scopes: string[]): Promise<string> {
    const authorize = `/oauth/authorize?${new URLSearchParams({ client_id: app.rest_api_key, redirect_uri: CALLBACK, response_type: 'code', scope: scopes.join(' ') })}`;
    const page = await h.inject({ method: 'GET', url: authorize });
    const request = (text: string) => /name="request" value="([^"]*)"/.exec(text)![1].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const post = (url: string, fields: URLSearchParams, cookie?: string) =>
      h.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, payload: fields.toString() });
    const loggedIn = await post('/oauth/authorize/login', new URLSearchParams({ request: request(page.body), csrf_token: csrfTokenOf(page.body), account_id: String(person.id) }), cookiesOf(page));
    assert.equal(loggedIn.statusCode, 303, loggedIn.body);
    const cookie = cookiesOf(page, loggedIn);
    let next = await h.inject({ method: 'GET', url: String(loggedIn.headers.location), headers: { cookie } });
    if (next.statusCode === 200) {
      const fields = new URLSearchParams({ request: request(next.body), csrf_token: csrfTokenOf(next.body), action: 'agree' });
      for (const s of scopes) fields.append('scope', s);
      next = await post('/oauth/authorize/consent', fields, cookiesOf(page, loggedIn, next));
    }
    assert.equal(next.statusCode, 302, next.body);
    return new URL(String(next.headers.location)).searchParams.get('code')!;
  }

  function token(fields: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return h.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': FORM_TYPE, ...headers }, payload: form(fields) });
  }

  it('the ID token of a refresh keeps the original auth_time (login time), rotated refresh tokens too', async () => {
    const app = await oidcApp();
    const person = await h.createAccount({ nickname: 'Ryan' });
    const loginAt = Math.floor(h.clock.now() / 1000);
    const code = await loginCode(app, person, ['openid', 'profile_nickname']);
    await h.advanceClock(120);
    const exchanged = await token({ grant_type: 'authorization_code', client_id: app.rest_api_key, redirect_uri: CALLBACK, code });
    assert.equal(exchanged.statusCode, 200, exchanged.body);
    const first = decodeJwt(exchanged.json().id_token);
    assert.ok(Math.abs(first.auth_time - loginAt) <= 1, `auth_time ${first.auth_time} is the login time ${loginAt}`);

    await h.advanceClock(3600);
    const refreshed = await token({ grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: exchanged.json().refresh_token });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    assert.deepEqual(Object.keys(refreshed.json()), ['token_type', 'access_token', 'expires_in', 'id_token']);
    const second = decodeJwt(refreshed.json().id_token);
    assert.equal(second.auth_time, first.auth_time);
    assert.equal(second.iat, Math.floor(h.clock.now() / 1000));

    // In its last month the refresh token is replaced; the new one keeps the auth_time.
    await h.advanceClock(31 * 24 * 3600);
    const rotated = await token({ grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: exchanged.json().refresh_token });
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.ok(rotated.json().refresh_token);
    assert.equal(decodeJwt(rotated.json().id_token).auth_time, first.auth_time);
    await h.advanceClock(3600);
    const again = await token({ grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: rotated.json().refresh_token });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(decodeJwt(again.json().id_token).auth_time, first.auth_time);
  });

  it('control-plane tokens with openid come with an id_token (nonce optional) that verifies and survives refresh', async () => {
    const app = await oidcApp();
    const person = await h.createAccount({ nickname: 'Ryan' });
    const mintedAt = Math.floor(h.clock.now() / 1000);
    const minted = await h.control('POST', `/apps/${app.id}/users/${person.id}/tokens`, { scopes: ['profile_nickname', 'openid'], nonce: 'n-42' });
    assert.deepEqual(Object.keys(minted), ['token_type', 'access_token', 'id_token', 'expires_in', 'refresh_token', 'refresh_token_expires_in', 'scope', 'user_id']);
    const claims = decodeJwt(minted.id_token);
    assert.deepEqual(Object.keys(claims), ['aud', 'sub', 'auth_time', 'iss', 'exp', 'iat', 'nonce', 'nickname']);
    assert.equal(claims.aud, app.rest_api_key);
    assert.equal(claims.sub, String(minted.user_id));
    assert.equal(claims.nonce, 'n-42');
    assert.equal(claims.nickname, 'Ryan');
    assert.ok(Math.abs(claims.auth_time - mintedAt) <= 1);
    const discovery = (await h.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json();
    assert.equal(claims.iss, discovery.issuer);
    const info = await h.inject({ method: 'POST', url: '/oauth/tokeninfo', headers: { 'content-type': FORM_TYPE }, payload: form({ id_token: minted.id_token }) });
    assert.equal(info.statusCode, 200, info.body);
    assert.deepEqual(info.json(), claims);

    await h.advanceClock(600);
    const refreshed = await token({ grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: minted.refresh_token });
    assert.equal(decodeJwt(refreshed.json().id_token).auth_time, claims.auth_time);

    // Without openid in the scopes, or with OIDC off for the app: no id_token, as at /oauth/token.
    const plain = await h.control('POST', `/apps/${app.id}/users/${person.id}/tokens`, { scopes: ['profile_nickname'] });
    assert.equal('id_token' in plain, false);
    const off = await h.createApp({ consent_items: { profile_nickname: 'required', openid: 'optional' } });
    assert.equal('id_token' in (await h.control('POST', `/apps/${off.id}/users/${person.id}/tokens`, { scopes: ['openid'] })), false);
  });

  it('HTTP Basic client authentication is not read, and the error says so', async () => {
    const app = await oidcApp();
    const person = await h.createAccount({ nickname: 'Ryan' });
    const basic = (id: string, secret = '') => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

    // Authlib / requests-oauthlib default: credentials only in the header.
    let code = await loginCode(app, person, ['openid', 'profile_nickname']);
    let res = await token({ grant_type: 'authorization_code', redirect_uri: CALLBACK, code }, basic(app.rest_api_key));
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.equal(
      res.body,
      JSON.stringify({
        error: 'invalid_request',
        error_description:
          'client_id is required. Client credentials in the Authorization header (HTTP Basic, client_secret_basic) are not read: send client_id (and client_secret) as form fields (client_secret_post).',
        error_code: 'KOE001',
      }),
    );
    // The code was not spent: the same exchange with form fields works, the header ignored.
    res = await token({ grant_type: 'authorization_code', client_id: app.rest_api_key, redirect_uri: CALLBACK, code }, basic(app.rest_api_key));
    assert.equal(res.statusCode, 200, res.body);
    assert.ok(res.json().id_token);

    // An app with the client secret on: a secret only in the header is named as the problem.
    await h.control('PATCH', `/apps/${app.id}`, { client_secret: 'shh-secret' });
    code = await loginCode(app, person, ['openid', 'profile_nickname']);
    res = await token({ grant_type: 'authorization_code', client_id: app.rest_api_key, redirect_uri: CALLBACK, code }, basic(app.rest_api_key, 'shh-secret'));
    assert.equal(res.statusCode, 401);
    assert.equal(
      res.body,
      JSON.stringify({
        error: 'invalid_client',
        error_description:
          'client_secret is required: the app has the client secret enabled. Client credentials in the Authorization header (HTTP Basic, client_secret_basic) are not read: send client_id (and client_secret) as form fields (client_secret_post).',
        error_code: 'KOE010',
      }),
    );
    res = await token({ grant_type: 'authorization_code', client_id: app.rest_api_key, client_secret: 'shh-secret', redirect_uri: CALLBACK, code });
    assert.equal(res.statusCode, 200, res.body);
    // Discovery names the one method that is read.
    const discovery = (await h.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json();
    assert.deepEqual(discovery.token_endpoint_auth_methods_supported, ['client_secret_post']);
  });
});

// ---------------------------------------------------------------------------------------
// 5. Custom templates belong to their app

const TEXT = (text: string) => ({ object_type: 'text', text, link: { web_url: 'https://developers.kakao.com' } });

forEachStore('issue 9.5: custom templates are scoped per app', (h) => {
  it('two apps each have template 123456; each sends its own; a repeat in one app is 409', async () => {
    const domains = [...SEED_DOMAINS, 'developers.kakao.com'];
    const one = await talkApp(h, { web_domains: domains });
    const two = await talkApp(h, { web_domains: domains });
    const a = await h.inject({ method: 'POST', url: `/_kapibara/v1/apps/${one.id}/templates`, payload: { id: 123456, name: 'seed', template: TEXT('from app one') } });
    assert.equal(a.statusCode, 201, a.body);
    const b = await h.inject({ method: 'POST', url: `/_kapibara/v1/apps/${two.id}/templates`, payload: { id: 123456, template: TEXT('from app two') } });
    assert.equal(b.statusCode, 201, b.body);
    assert.equal(b.json().id, 123456);
    assert.equal(b.json().app_id, two.id);

    const again = await h.inject({ method: 'POST', url: `/_kapibara/v1/apps/${one.id}/templates`, payload: { id: 123456, template: TEXT('again') } });
    assert.equal(again.statusCode, 409);
    assert.deepEqual(again.json(), { error: `template id 123456 is taken in app ${one.id}` });

    const meOne = await member(h, one);
    const meTwo = await member(h, two);
    for (const [me, text] of [[meOne, 'from app one'], [meTwo, 'from app two']] as const) {
      const res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: 123456 });
      assert.equal(res.body, JSON.stringify({ result_code: 0 }));
      assert.equal((await messagesOf(h, me, 'memo')).messages[0].template.text, text);
    }
    // Editing or deleting one app's template leaves the other's alone.
    await h.control('PUT', `/apps/${one.id}/templates/123456`, { template: TEXT('edited in one') });
    assert.equal((await h.control('GET', `/apps/${two.id}/templates/123456`)).template.text, 'from app two');
    await h.control('DELETE', `/apps/${two.id}/templates/123456`);
    assert.equal((await h.control('GET', `/apps/${one.id}/templates/123456`)).template.text, 'edited in one');
    const gone = await h.kapi('POST', '/v2/api/talk/memo/send', meTwo.token, { template_id: 123456 });
    assertApiError(gone, 400, -2);
    assert.equal(gone.body, JSON.stringify({ msg: 'invalid template_id: template 123456 does not exist in this app.', code: -2 }));

    // State export/import keeps both apps' templates apart.
    await h.control('POST', `/apps/${two.id}/templates`, { id: 123456, template: TEXT('two again') });
    const state = await h.control('GET', '/state');
    await h.control('PUT', '/state', state);
    assert.equal((await h.control('GET', `/apps/${one.id}/templates/123456`)).template.text, 'edited in one');
    assert.equal((await h.control('GET', `/apps/${two.id}/templates/123456`)).template.text, 'two again');
  });

  it('ids are issued when none is given, and another app\'s template is simply not found', async () => {
    const domains = ['developers.kakao.com'];
    const mine = await talkApp(h, { web_domains: domains });
    const theirs = await talkApp(h, { web_domains: domains });
    const issued = await h.control('POST', `/apps/${theirs.id}/templates`, { template: TEXT('theirs') });
    assert.ok(Number.isSafeInteger(issued.id) && issued.id >= 10_000, `issued id ${issued.id}`);
    assert.equal(issued.name, `template ${issued.id}`);
    const other = await h.control('POST', `/apps/${mine.id}/templates`, { template: TEXT('mine') });
    assert.notEqual(other.id, issued.id);

    const me = await member(h, mine);
    const res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: issued.id });
    assertApiError(res, 400, -2);
    assert.equal(res.body, JSON.stringify({ msg: `invalid template_id: template ${issued.id} does not exist in this app.`, code: -2 }));
    const control = await h.inject({ method: 'GET', url: `/_kapibara/v1/apps/${mine.id}/templates/${issued.id}` });
    assert.equal(control.statusCode, 404);
    assert.deepEqual(control.json(), { error: `template ${issued.id} of app ${mine.id} not found` });
  });
});

// ---------------------------------------------------------------------------------------
// Upgrading a 006 database (migrations 007 and 008)

async function olderDatabase(options: StoreOptions, lastMigration: string): Promise<Kysely<any>> {
  const db = options.databaseUrl
    ? new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: options.databaseUrl, max: 2 }) }) })
    : new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(options.sqlitePath!) }) });
  await migrateTo(db, storeSchema().migrations, lastMigration);
  return db;
}

describe('upgrading a 006 database: templates per app (007), refresh tokens with auth_time (008)', () => {
  for (const kind of storeKinds()) {
    it(`keeps templates and refresh tokens, then takes a second app's template 123456, on ${kind}`, async () => {
      await withDurableStore(kind, async (options) => {
        const old = await olderDatabase(options, '006_talk_message_rowid');
        const now = Date.UTC(2026, 10, 1);
        const keys = (n: string) => ({ rest_api_key: `rest${n}`.padEnd(32, '0'), native_key: `native${n}`.padEnd(32, '0'), javascript_key: `js${n}`.padEnd(32, '0'), admin_key: `admin${n}`.padEnd(32, '0') });
        const appRow = (id: number) => ({
          id,
          name: `Old ${id}`,
          ...keys(String(id)),
          client_secret: null,
          redirect_uris: '[]',
          logout_redirect_uris: '[]',
          web_domains: JSON.stringify(['https://developers.kakao.com']),
          consent_items: JSON.stringify({ profile_nickname: 'required', talk_message: 'optional', openid: 'optional' }),
          service_terms: '[]',
          user_property_keys: '[]',
          login_enabled: 1,
          manual_signup: 0,
          oidc_enabled: 1,
          created_at: now,
        });
        await old.insertInto('apps').values([appRow(11), appRow(12)]).execute();
        await old
          .insertInto('accounts')
          .values({ id: 7, email: 'old@kapibara.test', password: 'x', nickname: 'Old', is_leap_month: 0, email_verified: 1, talk_user: 1, story_user: 1, created_at: now })
          .execute();
        const template = JSON.stringify(TEXT('made before the upgrade'));
        await old.insertInto('talk_templates').values({ id: 123456, app_id: 11, name: 'old', object_type: 'text', template, created_at: now, updated_at: now }).execute();
        await old.destroy();

        const store = await openStore(options);
        const app = await buildApp({ store });
        try {
          const call = async (method: 'GET' | 'POST', url: string, payload?: object) => {
            const res = await app.inject({ method, url: `/_kapibara/v1${url}`, payload });
            assert.ok(res.statusCode < 300, `${url}: ${res.statusCode} ${res.body}`);
            return res.json();
          };
          const kept = await call('GET', '/apps/11/templates/123456');
          assert.deepEqual(
            { id: kept.id, app_id: kept.app_id, name: kept.name, template: kept.template },
            { id: 123456, app_id: 11, name: 'old', template: TEXT('made before the upgrade') },
          );
          const second = await call('POST', '/apps/12/templates', { id: 123456, template: TEXT('the second app') });
          assert.equal(second.app_id, 12);
          const taken = await app.inject({ method: 'POST', url: '/_kapibara/v1/apps/11/templates', payload: { id: 123456, template: TEXT('x') } });
          assert.equal(taken.statusCode, 409, taken.body);

          // A refresh token stored before 008 (no auth_time) still refreshes, with an ID token.
          const minted = await call('POST', '/apps/11/users/7/tokens', { scopes: ['profile_nickname', 'openid'] });
          await store.db.updateTable('refresh_tokens').set({ auth_time: null }).execute();
          const created = (await store.db.selectFrom('refresh_tokens').select('created_at').executeTakeFirstOrThrow()).created_at;
          const refreshed = await app.inject({
            method: 'POST',
            url: '/oauth/token',
            headers: { 'content-type': FORM_TYPE },
            payload: form({ grant_type: 'refresh_token', client_id: keys('11').rest_api_key, refresh_token: minted.refresh_token }),
          });
          assert.equal(refreshed.statusCode, 200, refreshed.body);
          assert.equal(decodeJwt(refreshed.json().id_token).auth_time, Math.floor(created / 1000));

          const me = await call('POST', '/apps/12/users/7/tokens', { scopes: ['profile_nickname', 'talk_message'] });
          const sent = await app.inject({
            method: 'POST',
            url: '/v2/api/talk/memo/send',
            headers: { authorization: `Bearer ${me.access_token}`, 'content-type': FORM_TYPE },
            payload: form({ template_id: 123456 }),
          });
          assert.equal(sent.body, JSON.stringify({ result_code: 0 }));
        } finally {
          await app.close();
          await store.close();
        }
      });
    });
  }
});
