import { after, before, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { assertApiError, forEachStore } from './helpers/harness.js';
import { SEED_SITE, sharingApp } from './fixtures/sharing.js';
import { type Part, gif, jpeg, multipart, png, site } from './fixtures/story.js';

const JSON_TYPE = 'application/json;charset=UTF-8';
const UPLOAD = '/v2/api/talk/message/image/upload';
const SCRAP = '/v2/api/talk/message/image/scrap';
const DELETE = '/v2/api/talk/message/image/delete';
const IMAGE_URL = /^http:\/\/localhost:80\/_kapibara\/sharing\/dn\/[0-9A-Za-z]{24}\/kakaolink40_original\.(png|jpg|gif|webp)$/;

forEachStore('Kakao Talk sharing: images', (h) => {
  let web: Awaited<ReturnType<typeof site>>;
  let served: Record<string, Buffer> = {};
  before(async () => {
    web = await site((req, res) => {
      const body = served[req.url ?? ''];
      if (req.url === '/slow.png') return void setTimeout(() => res.end(served['/a.png']), 8000);
      if (req.url === '/moved.png') {
        res.writeHead(302, { location: 'https://elsewhere.example/a.png' });
        return void res.end();
      }
      if (!body) {
        res.writeHead(404);
        return void res.end();
      }
      res.setHeader('content-type', 'image/png');
      res.end(body);
    });
  });
  after(async () => web.close());

  function upload(key: string, parts: Part[], headers: Record<string, string> = {}) {
    const body = multipart(parts);
    return h.inject({ method: 'POST', url: UPLOAD, headers: { authorization: `KakaoAK ${key}`, 'content-type': body.contentType, ...headers }, payload: body.payload });
  }

  async function fetchBack(url: string) {
    return h.inject({ method: 'GET', url: new URL(url).pathname });
  }

  it('uploads a PNG, a JPEG and a GIF: real format and size; served back byte for byte', async () => {
    const app = await sharingApp(h);
    const files: [string, Buffer, string, number, number][] = [
      ['cake.png', await png(640, 480), 'image/png', 640, 480],
      ['cake.jpg', await jpeg(300, 500), 'image/jpeg', 300, 500],
      ['cake.gif', await gif(120, 90), 'image/gif', 120, 90],
    ];
    for (const [name, data, type, width, height] of files) {
      // The part's own Content-Type is ignored: the bytes decide.
      const res = await upload(app.javascript_key, [{ name: 'file', filename: name, contentType: 'application/octet-stream', data }], { origin: SEED_SITE });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], JSON_TYPE);
      const body = res.json();
      assert.match(body.infos.original.url, IMAGE_URL);
      assert.deepEqual(body, { infos: { original: { url: body.infos.original.url, content_type: type, length: data.length, width, height } } });
      const back = await fetchBack(body.infos.original.url);
      assert.equal(back.statusCode, 200);
      assert.equal(back.headers['content-type'], type);
      assert.deepEqual(back.rawPayload, data);
    }
  });

  it('several `file` parts are all stored (the answer describes the first); more than 5 is -606', async () => {
    const app = await sharingApp(h);
    const parts = await Promise.all([1, 2, 3].map(async (i) => ({ name: 'file', filename: `${i}.png`, data: await png(10 * i, 10 * i) })));
    const res = await upload(app.native_key, parts);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual([res.json().infos.original.width, res.json().infos.original.height], [10, 10]);
    const state = await h.control('GET', '/state');
    assert.deepEqual(
      state.sharing_images.map((i: { width: number }) => i.width).sort((a: number, b: number) => a - b),
      [10, 20, 30],
    );
    const many = await Promise.all([1, 2, 3, 4, 5, 6].map(async (i) => ({ name: 'file', filename: `${i}.png`, data: await png(8, 8) })));
    assertApiError(await upload(app.native_key, many), 400, -606, 'up to 5 images');
  });

  it('2 MB is the limit (-602); a file that is no image, or a broken one, is -911; no file is -2', async () => {
    const app = await sharingApp(h);
    const exactly = Buffer.alloc(2 * 1024 * 1024);
    const big = await sharp({ create: { width: 1400, height: 1400, channels: 3, background: '#123456' } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    assert.ok(big.length > exactly.length);
    let res = await upload(app.javascript_key, [{ name: 'file', filename: 'big.png', data: big }]);
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { msg: 'image size is too large. each image must be 2MB or smaller.', code: -602 });

    res = await upload(app.javascript_key, [{ name: 'file', filename: 'notes.txt', data: 'just some text' }]);
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { msg: 'unsupported image format: notes.txt is not an image that can be decoded. send JPEG, PNG, GIF or WebP.', code: -911 });

    const broken = (await png(200, 200)).subarray(0, 60);
    assertApiError(await upload(app.javascript_key, [{ name: 'file', filename: 'broken.png', data: broken }]), 400, -911, 'broken.png');

    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    assertApiError(await upload(app.javascript_key, [{ name: 'file', filename: 'a.svg', data: svg }]), 400, -911, 'a.svg is svg');

    assertApiError(await upload(app.javascript_key, [{ name: 'title', data: 'no file' }]), 400, -2, 'file is required');
  });

  it('images expire 20 days after the upload on the platform clock', async () => {
    const app = await sharingApp(h);
    const res = await upload(app.javascript_key, [{ name: 'file', filename: 'a.png', data: await png(20, 20) }]);
    const { url } = res.json().infos.original;
    await h.advanceClock(20 * 24 * 3600 - 60);
    assert.equal((await fetchBack(url)).statusCode, 200);
    await h.advanceClock(60);
    const gone = await fetchBack(url);
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().code, -1);
    // Expired images can no longer be deleted either.
    assertApiError(await h.kapiKey('DELETE', DELETE, app.javascript_key, { image_url: url }), 400, -2, 'not an image this app uploaded');
    // Another upload does not remove it: with the clock moved back it is served again, as
    // expired tokens are, until the expiry sweep removes it a day after it expired.
    await upload(app.javascript_key, [{ name: 'file', filename: 'b.png', data: await png(10, 10) }]);
    await h.advanceClock(-120);
    assert.equal((await fetchBack(url)).statusCode, 200);
    await h.advanceClock(120 + 24 * 3600 + 60);
    const swept = await h.control('POST', '/expired/sweep');
    assert.equal(swept.removed.sharing_images, 1, JSON.stringify(swept));
    await h.advanceClock(-(24 * 3600 + 180));
    assert.equal((await fetchBack(url)).statusCode, 404);
  });

  it('delete: only the app’s own image; afterwards it is gone', async () => {
    const app = await sharingApp(h);
    const other = await sharingApp(h);
    const res = await upload(app.javascript_key, [{ name: 'file', filename: 'a.jpg', data: await jpeg(20, 20) }]);
    const { url } = res.json().infos.original;
    assertApiError(await h.kapiKey('DELETE', DELETE, other.javascript_key, { image_url: url }), 400, -2, 'not an image this app uploaded');
    assertApiError(await h.kapiKey('DELETE', DELETE, app.javascript_key, {}), 400, -2, 'image_url is required.');
    const del = await h.kapiKey('DELETE', DELETE, app.javascript_key, { image_url: url });
    assert.equal(del.statusCode, 200, del.body);
    assert.equal(del.body, '');
    assert.equal((await fetchBack(url)).statusCode, 404);
    assertApiError(await h.kapiKey('DELETE', DELETE, app.javascript_key, { image_url: url }), 400, -2);
  });

  it('scrap: fetched from a registered web domain only, every redirect checked; decoded like uploads', { timeout: 20000 }, async () => {
    const app = await sharingApp(h, { web_domains: [web.origin] });
    const image = await png(64, 32);
    served = { '/a.png': image, '/notes.txt': Buffer.from('hello') };
    let res = await h.kapiKey('POST', SCRAP, app.javascript_key, { image_url: `${web.origin}/a.png`, secure_resource: true });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(body, { infos: { original: { url: body.infos.original.url, content_type: 'image/png', length: image.length, width: 64, height: 32 } } });
    assert.deepEqual((await fetchBack(body.infos.original.url)).rawPayload, image);

    assertApiError(await h.kapiKey('POST', SCRAP, app.javascript_key, { image_url: 'https://elsewhere.example/a.png' }), 400, -2, 'is not a registered web domain');
    assertApiError(await h.kapiKey('POST', SCRAP, app.javascript_key, { image_url: `${web.origin}/moved.png` }), 400, -2, 'https://elsewhere.example is not a registered web domain');
    assertApiError(await h.kapiKey('POST', SCRAP, app.javascript_key, { image_url: `${web.origin}/missing.png` }), 400, -604, 'HTTP 404');
    assertApiError(await h.kapiKey('POST', SCRAP, app.javascript_key, { image_url: `${web.origin}/notes.txt` }), 400, -911);
    assertApiError(await h.kapiKey('POST', SCRAP, app.javascript_key, {}), 400, -2, 'image_url is required.');
    assertApiError(await h.kapiKey('POST', SCRAP, app.javascript_key, { image_url: `${web.origin}/slow.png` }), 400, -603, 'timeout');
  });

  it('keys: unknown -401, REST -3, a JavaScript key from a foreign page -401 domain mismatched', async () => {
    const app = await sharingApp(h);
    const data = await png(4, 4);
    let res = await upload('nope', [{ name: 'file', filename: 'a.png', data }]);
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), { msg: 'invalid app key.', code: -401 });
    assertApiError(await upload(app.rest_api_key, [{ name: 'file', filename: 'a.png', data }]), 403, -3);
    res = await upload(app.javascript_key, [{ name: 'file', filename: 'a.png', data }], { origin: 'https://evil.example' });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), { msg: 'domain mismatched! caller=https://evil.example. check out registered web domains.', code: -401 });
    // A 401 carries its RFC 6750 header (seed 002), as the other -401s do.
    assert.equal(res.headers['www-authenticate'], 'KakaoAK error=invalid_key');
  });
});
