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

