import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { buildApp } from '../src/app.js';
import { assertApiError, forEachStore } from './helpers/harness.js';
import { JAVA_BOUNDARY, STORY_ID, UPLOAD_PATH, gif, jpeg, png, storyApp, storyUser, upload } from './fixtures/story.js';

const JSON_TYPE = 'application/json;charset=UTF-8';

forEachStore('Kakao Story: image upload and photo stories', (h) => {
  async function fetchImage(url: string) {
    const res = await h.inject({ method: 'GET', url: url.startsWith('http') ? new URL(url).pathname : url.split('?')[0] });
    return res;
  }

  async function checkServed(path: string, format: string) {
    const m = UPLOAD_PATH.exec(path)!;
    const res = await fetchImage(path);
    assert.equal(res.statusCode, 200, `${path}: ${res.statusCode}`);
    const meta = await sharp(res.rawPayload).metadata();
    assert.equal(meta.format, format);
    assert.deepEqual([meta.width, meta.height], [Number(m[2]), Number(m[3])]);
    return res;
  }

  it('curl sample: two `file` fields → the seed path list; the images are served back', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    const a = await jpeg(150, 150);
    const b = await jpeg(1080, 1920);
    const res = await upload(h, token, [
      { name: 'file', filename: '0.jpg', contentType: 'image/jpeg', data: a },
      { name: 'file', filename: '0.jpg', contentType: 'image/jpeg', data: b },
    ]);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    const paths = res.json();
    assert.equal(paths.length, 2);
    assert.match(paths[0], UPLOAD_PATH);
    assert.ok(paths[0].endsWith('/img.jpg?width=150&height=150'), paths[0]);
    assert.ok(paths[1].endsWith('/img.jpg?width=1080&height=1920'), paths[1]);
    const served = await checkServed(paths[0], 'jpeg');
    assert.deepEqual(served.rawPayload, a, 'the original bytes come back unchanged');
    assert.equal(served.headers['content-type'], 'image/jpeg');
    await checkServed(paths[1], 'jpeg');
  });

  it('uploaded images round-trip through state export and import (bytes as base64)', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    const a = await png(40, 30);
    const res = await upload(h, token, [{ name: 'file', filename: 'a.png', contentType: 'image/png', data: a }]);
    assert.equal(res.statusCode, 200, res.body);
    const [path] = res.json();
    const state = await h.control('GET', '/state');
    assert.equal(typeof state.story_image_files[0].bytes, 'string');
    await h.control('POST', '/reset');
    assert.equal((await fetchImage(path)).statusCode, 404);
    await h.control('PUT', '/state', state);
    const back = await checkServed(path, 'png');
    assert.deepEqual(back.rawPayload, a);
    assert.deepEqual(await h.control('GET', '/state'), state);
  });

  it('PHP sample: file[0] and file[1]; Python sample: one `file`, then post/photo with the upload body as image_url_list', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    let res = await upload(h, token, [
      { name: 'file[0]', filename: 'your_example_image_1.jpg', contentType: 'application/octet-stream', data: await png(160, 160) },
      { name: 'file[1]', filename: 'your_example_image_2.jpg', contentType: 'application/octet-stream', data: await png(314, 306) },
    ]);
    assert.equal(res.statusCode, 200, res.body);
    const [p1, p2] = res.json();
    assert.ok(p1.endsWith('/img.png?width=160&height=160'), p1);
    assert.ok(p2.endsWith('/img.png?width=314&height=306'), p2);
    await checkServed(p1, 'png');

    // requests.post(upload_photo_url, headers=headers, files={'file': open('your_picture.jpeg', 'rb')})
    res = await upload(h, token, [{ name: 'file', filename: 'your_picture.jpeg', data: await jpeg(640, 480) }]);
    assert.equal(res.statusCode, 200, res.body);
    const uploadText = res.body;
    // post_photo_payload = {'image_url_list': upload_result.text}
    res = await h.kapi('POST', '/v1/api/story/post/photo', token, { image_url_list: uploadText });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.json().id, STORY_ID);
    const story = (await h.kapi('GET', '/v1/api/story/mystory', token, { id: res.json().id })).json();
    assert.equal(story.media_type, 'PHOTO');
    assert.equal(story.content, '');
    assert.equal(story.media.length, 1);
    const media = story.media[0];
    assert.deepEqual(Object.keys(media), ['original', 'xlarge', 'large', 'medium', 'small']);
    assert.match(media.original, /\/img\.jpg\?width=640&height=480$/);
    assert.match(media.xlarge, /\/img_xl\.jpg\?width=640&height=480$/);
    assert.match(media.large, /\/img_l\.jpg\?width=640&height=480$/);
    assert.match(media.medium, /\/img_m\.jpg\?width=480&height=360$/);
    assert.match(media.small, /\/img_s\.jpg\?width=240&height=180$/);
    for (const url of Object.values(media) as string[]) {
      const r = await fetchImage(url);
      assert.equal(r.statusCode, 200, url);
      const meta = await sharp(r.rawPayload).metadata();
      const q = new URL(url).searchParams;
      assert.deepEqual([meta.width, meta.height], [Number(q.get('width')), Number(q.get('height'))], url);
    }
  });

  it('Java sample: raw body, `multipart/form-data;boundary=…`, parts without Content-Type', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    const res = await upload(
      h,
      token,
      [
        { name: 'file', filename: 'sample1.png', data: await png(160, 160) },
        { name: 'file', filename: 'sample2.png', data: await png(314, 306) },
      ],
      JAVA_BOUNDARY,
      `multipart/form-data;boundary=${JAVA_BOUNDARY}`,
    );
    assert.equal(res.statusCode, 200, res.body);
    const paths = res.json();
    assert.equal(paths.length, 2);
    assert.ok(paths[0].endsWith('/img.png?width=160&height=160'));
    assert.ok(paths[1].endsWith('/img.png?width=314&height=306'));
  });

  it('photo sample: permission=F, enable_share=true, content, and the single-quoted image_url_list', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    const paths = (
      await upload(h, token, [
        { name: 'file1', filename: 'img1.jpg', data: await jpeg(620, 310) },
        { name: 'file2', filename: 'img2.jpg', data: await jpeg(310, 620) },
      ])
    ).json();
    const res = await h.kapi('POST', '/v1/api/story/post/photo', token, {
      permission: 'F',
      enable_share: 'true',
      content: 'This cafe is really awesome!',
      image_url_list: `['${paths[0]}','${paths[1]}']`,
    });
    assert.equal(res.statusCode, 200, res.body);
    const story = (await h.kapi('GET', '/v1/api/story/mystory', token, { id: res.json().id })).json();
    assert.equal(story.permission, 'FRIEND');
    assert.equal(story.content, 'This cafe is really awesome!');
    assert.deepEqual(
      story.media.map((m: { original: string }) => new URL(m.original).pathname + new URL(m.original).search),
      paths,
    );
    // The list shows the media too, and the story page shows the photos.
    const list = (await h.kapi('GET', '/v1/api/story/mystories', token)).json();
    assert.deepEqual(list[0].media, story.media);
    const page = await h.inject({ method: 'GET', url: new URL(story.url).pathname });
    assert.ok(page.body.includes(new URL(story.media[0].large).pathname), page.body);
  });

  it('upload errors: -606 more than 10 images or a GIF with others, -602 10 MB or more, -2 not an image or no file', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    const small = await png(4, 4);
    const ten = Array.from({ length: 10 }, (_, i) => ({ name: `file[${i}]`, filename: `${i}.png`, data: small }));
    let res = await upload(h, token, ten);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().length, 10);
    assertApiError(await upload(h, token, [...ten, { name: 'file[10]', filename: '10.png', data: small }]), 400, -606);
    const sixty = Array.from({ length: 60 }, (_, i) => ({ name: `file${i}`, filename: `${i}.png`, data: small }));
    assertApiError(await upload(h, token, sixty), 400, -606);

    res = await upload(h, token, [{ name: 'file', filename: 'anim.gif', data: await gif(20, 10) }]);
    assert.equal(res.statusCode, 200, res.body);
    assert.ok(res.json()[0].endsWith('/img.gif?width=20&height=10'));
    await checkServed(res.json()[0], 'gif');
    assertApiError(
      await upload(h, token, [
        { name: 'file', filename: 'anim.gif', data: await gif(20, 10) },
        { name: 'file', filename: 'b.png', data: small },
      ]),
      400,
      -606,
      'GIF',
    );

    // Seed 000: "its size must be less than 10 MB": 10 MB itself is too large.
    const big = Buffer.alloc(10 * 1024 * 1024, 7);
    assertApiError(await upload(h, token, [{ name: 'file', filename: 'big.jpg', data: big }]), 400, -602);
    // Beyond the server-wide 20 MB multipart limit: still the Kakao error, never a 500 or 413.
    const huge = Buffer.alloc(21 * 1024 * 1024, 7);
    assertApiError(await upload(h, token, [{ name: 'file', filename: 'huge.jpg', data: huge }]), 400, -602);
    assertApiError(
      await upload(h, token, [
        { name: 'file', filename: 'ok.png', data: small },
        { name: 'file', filename: 'big.jpg', data: big },
      ]),
      400,
      -602,
    );

    assertApiError(await upload(h, token, [{ name: 'file', filename: 'notes.txt', data: 'just text' }]), 400, -2, 'not an image');
    assertApiError(
      await upload(h, token, [{ name: 'file', filename: 'x.svg', data: '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>' }]),
      400,
      -2,
    );
    assertApiError(await upload(h, token, [{ name: 'photo', filename: 'a.png', data: small }]), 400, -2, 'file');
    assertApiError(await upload(h, token, [{ name: 'file', data: 'a plain field, not a file' }]), 400, -2, 'file');
    res = await h.inject({ method: 'POST', url: '/v1/api/story/upload/multi', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'file=x' });
    assertApiError(res, 400, -2, 'multipart');
    res = await h.inject({ method: 'POST', url: '/v1/api/story/upload/multi', headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=zzz' }, payload: '--zzz\r\nbroken' });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().code, -2);
    const manyFields = Array.from({ length: 120 }, (_, i) => ({ name: `field${i}`, data: 'x' }));
    assertApiError(await upload(h, token, [...manyFields, { name: 'file', filename: 'a.png', data: small }]), 400, -2, 'multipart');
    res = await h.inject({ method: 'POST', url: '/v1/api/story/upload/multi', headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data' }, payload: 'x' });
    assertApiError(res, 400, -2);
    // Nothing was stored by the refused uploads: only the accepted ten and the GIF.
    const count = await h.store.db.selectFrom('story_images').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 11);
    assertApiError(await upload(h, 'bad-token', [{ name: 'file', filename: 'a.png', data: small }]), 401, -401);
    const nonStory = await storyUser(h, app, { story_user: false });
    assertApiError(await upload(h, nonStory.token, [{ name: 'file', filename: 'a.png', data: small }]), 400, -601);
  });

  it('post/photo accepts only this person’s own, current uploads, exactly as returned', async () => {
    const app = await storyApp(h);
    const { token, person } = await storyUser(h, app);
    const other = await storyUser(h, app);
    const otherApp = await storyApp(h);
    const samePersonOtherApp = (await h.token(otherApp, person)).access_token;
    const mine = (await upload(h, token, [{ name: 'file', filename: 'a.png', data: await png(30, 20) }])).json()[0];
    const theirs = (await upload(h, other.token, [{ name: 'file', filename: 'b.png', data: await png(30, 20) }])).json()[0];
    const post = (t: string, list: unknown) => h.kapi('POST', '/v1/api/story/post/photo', t, { image_url_list: list as string[] });

    assertApiError(await post(token, [theirs]), 400, -2, 'image_url_list');
    assertApiError(await post(samePersonOtherApp, [mine]), 400, -2, 'image_url_list');
    assertApiError(await post(token, ['/aaa/bbb/img1.jpg?width=6200&height=3100']), 400, -2, 'image_url_list');
    assertApiError(await post(token, [mine.replace(/width=\d+/, 'width=31')]), 400, -2, 'image_url_list');
    assertApiError(await post(token, [mine.replace('img.png', 'img.jpg')]), 400, -2, 'image_url_list');
    assertApiError(await post(token, []), 400, -2, 'image_url_list');
    assertApiError(await h.kapi('POST', '/v1/api/story/post/photo', token, { content: 'no images' }), 400, -2, 'image_url_list');
    assertApiError(await h.kapi('POST', '/v1/api/story/post/photo', token, { image_url_list: '["unterminated' }), 400, -2, 'image_url_list');
    assertApiError(await post(token, Array(11).fill(mine)), 400, -606);
    assertApiError(await h.kapi('POST', '/v1/api/story/post/photo', token, { image_url_list: [mine], content: 'x'.repeat(2049) }), 400, -2, 'content');

    // The path without its query, and the same image twice, are the same upload.
    const res = await post(token, [mine.split('?')[0], mine]);
    assert.equal(res.statusCode, 200, res.body);
    const { id } = res.json();
    const story = (await h.kapi('GET', '/v1/api/story/mystory', token, { id })).json();
    assert.equal(story.media.length, 2);

    // Deleting the story removes its files: the path is stale afterwards.
    assert.equal((await h.kapi('DELETE', '/v1/api/story/delete/mystory', token, { id })).statusCode, 200);
    for (const url of Object.values(story.media[0]) as string[]) {
      assert.equal((await h.inject({ method: 'GET', url: new URL(url).pathname })).statusCode, 404, url);
    }
    const left = await h.store.db.selectFrom('story_image_files').select('image_key').where('image_key', '=', mine.split('/').slice(2, 5).join('/')).execute();
    assert.deepEqual(left, []);
    assertApiError(await post(token, [mine]), 400, -2, 'image_url_list');
    // Other people's images are untouched.
    assert.equal((await h.inject({ method: 'GET', url: theirs.split('?')[0] })).statusCode, 200);
  });

  it('an image shared by two stories stays until the last of them is deleted', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    const path = (await upload(h, token, [{ name: 'file', filename: 'a.png', data: await png(8, 8) }])).json()[0];
    const one = (await h.kapi('POST', '/v1/api/story/post/photo', token, { image_url_list: [path] })).json().id;
    const two = (await h.kapi('POST', '/v1/api/story/post/photo', token, { image_url_list: [path] })).json().id;
    await h.kapi('DELETE', '/v1/api/story/delete/mystory', token, { id: one });
    assert.equal((await h.inject({ method: 'GET', url: path.split('?')[0] })).statusCode, 200);
    await h.kapi('DELETE', '/v1/api/story/delete/mystory', token, { id: two });
    assert.equal((await h.inject({ method: 'GET', url: path.split('?')[0] })).statusCode, 404);
  });

  it("deleting the app that posted a photo story keeps the story's photos", async () => {
    const app = await storyApp(h);
    const { token, person } = await storyUser(h, app);
    const path = (await upload(h, token, [{ name: 'file', filename: 'a.png', data: await png(8, 8) }])).json()[0];
    await h.kapi('POST', '/v1/api/story/post/photo', token, { image_url_list: [path] });
    await h.control('DELETE', `/apps/${app.id}`);
    const [story] = await h.control('GET', `/accounts/${person.id}/stories`);
    assert.equal(story.app_id, null);
    assert.equal(story.media.length, 1);
    assert.equal((await h.inject({ method: 'GET', url: path.split('?')[0] })).statusCode, 200);
  });

  it('unknown image paths are 404 in the Kakao error shape', async () => {
    for (const url of ['/dn/aaa/bbb/ccc/img.png', '/dn/aaa/bbb/ccc/img_q.jpg', '/dn/a-b/bbb/ccc/img.png']) {
      const res = await h.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.headers['content-type'], JSON_TYPE);
    }
  });

  it('uploads survive a restart: a second instance on the same store serves the image and the story', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    const original = await png(64, 32);
    const path = (await upload(h, token, [{ name: 'file', filename: 'a.png', data: original }])).json()[0];
    const id = (await h.kapi('POST', '/v1/api/story/post/photo', token, { image_url_list: [path], content: 'kept' })).json().id;

    const second = await buildApp({ store: h.store, clock: h.clock });
    try {
      const res = await second.inject({ method: 'GET', url: path.split('?')[0] });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.rawPayload, original);
      const story = await second.inject({ method: 'GET', url: `/v1/api/story/mystory?id=${id}`, headers: { authorization: `Bearer ${token}` } });
      assert.equal(story.statusCode, 200, story.body);
      const small = await second.inject({ method: 'GET', url: new URL(story.json().media[0].small).pathname });
      assert.equal(small.statusCode, 200);
      assert.equal((await sharp(small.rawPayload).metadata()).format, 'jpeg');
    } finally {
      await second.close();
    }
  });
});
