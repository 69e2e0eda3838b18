import { describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import type { StoreOptions } from '../src/db/index.js';
import { openStore } from '../src/kapibara.js';
import { storeKinds, withDurableStore } from './helpers/stores.js';
import { png, multipart, STORY_CONSENTS } from './fixtures/story.js';

/**
 * A real restart: the server process's store is closed and opened again from its file or
 * database URL, then the uploaded image and the photo story are read back.
 */
async function uploadAndPost(app: FastifyInstance, image: Buffer) {
  const control = async (method: 'POST', url: string, payload: object) => {
    const res = await app.inject({ method, url: `/_kapibara/v1${url}`, payload });
    assert.ok(res.statusCode < 300, res.body);
    return res.json();
  };
  const kakaoApp = await control('POST', '/apps', { consent_items: STORY_CONSENTS });
  const person = await control('POST', '/accounts', {});
  const { access_token } = await control('POST', `/apps/${kakaoApp.id}/users/${person.id}/tokens`, {});
  const body = multipart([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: image }]);
  const up = await app.inject({
    method: 'POST',
    url: '/v1/api/story/upload/multi',
    headers: { authorization: `Bearer ${access_token}`, 'content-type': body.contentType },
    payload: body.payload,
  });
  assert.equal(up.statusCode, 200, up.body);
  const path = up.json()[0] as string;
  const post = await app.inject({
    method: 'POST',
    url: '/v1/api/story/post/photo',
    headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ image_url_list: JSON.stringify([path]) }).toString(),
  });
  assert.equal(post.statusCode, 200, post.body);
  return { token: access_token as string, path, id: post.json().id as string };
}

async function restartCheck(options: StoreOptions) {
  const image = await png(40, 30, '#123456');
  let store = await openStore(options);
  let app = await buildApp({ store });
  const { token, path, id } = await uploadAndPost(app, image);
  await app.close();
  await store.close();

  store = await openStore(options);
  app = await buildApp({ store });
  try {
    const res = await app.inject({ method: 'GET', url: path.split('?')[0] });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'image/png');
    assert.deepEqual(res.rawPayload, image);
    const story = await app.inject({ method: 'GET', url: `/v1/api/story/mystory?id=${id}`, headers: { authorization: `Bearer ${token}` } });
    assert.equal(story.statusCode, 200, story.body);
    assert.equal(story.json().media.length, 1);
  } finally {
    await app.close();
    await store.close();
  }
}

describe('Kakao Story uploads survive a real restart', () => {
  for (const kind of storeKinds()) {
    it(`on ${kind}`, () => withDurableStore(kind, restartCheck));
  }
});
