import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { forEachStore, type Harness } from './helpers/harness.js';
import { loadSharp } from '../src/core/lazy.js';

/**
 * The pictures of SDK v1's Kakao.Auth.createLoginButton: kauth's
 * /public/widget/login/<lang>/<lang>_<01|02|03>_medium.png and its _press.png (the hover
 * picture), drawn by Kapibara. Each must be a PNG a browser decodes, at the size of its
 * button size; anything else under that folder is kauth's 404 page.
 */

const SIZES = { '01': [300, 45], '02': [240, 36], '03': [180, 27] } as const;

forEachStore('SDK v1 login button pictures', (h: Harness) => {
  it('every name SDK v1 asks for is a PNG of its size, cached, the press picture darker than the plain one', async () => {
    const sharp = await loadSharp();
    for (const lang of ['kr', 'en']) {
      for (const [size, [width, height]] of Object.entries(SIZES)) {
        const plain = `/public/widget/login/${lang}/${lang}_${size}_medium.png`;
        const press = `/public/widget/login/${lang}/${lang}_${size}_medium_press.png`;
        const pictures: Buffer[] = [];
        for (const url of [plain, press]) {
          const res = await h.inject({ method: 'GET', url, headers: { host: 'kauth.kakao.com' } });
          assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`);
          assert.equal(res.headers['content-type'], 'image/png', url);
          assert.equal(res.headers['cache-control'], 'public, max-age=86400', url);
          const meta = await sharp(res.rawPayload, { failOn: 'error' }).metadata();
          assert.equal(meta.format, 'png', url);
          assert.deepEqual([meta.width, meta.height], [width, height], url);
          // A second request is answered from the cache: the same bytes.
          const again = await h.inject({ method: 'GET', url });
          assert.ok(again.rawPayload.equals(res.rawPayload), url);
          pictures.push(res.rawPayload);
        }
        // The button is yellow (#FEE500) in its middle right half; the press picture is darker there.
        const pixel = async (png: Buffer) => {
          const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
          const at = (Math.floor(height / 2) * info.width + Math.floor(width * 0.7)) * info.channels;
          return [data[at], data[at + 1], data[at + 2]];
        };
        assert.deepEqual(await pixel(pictures[0]), [0xfe, 0xe5, 0x00]);
        const pressed = await pixel(pictures[1]);
        assert.ok(pressed[0] + pressed[1] < 0xfe + 0xe5, `the press picture is darker: ${pressed}`);
        // The speech bubble mark: dark at its centre, on the left.
        const { data, info } = await sharp(pictures[0]).raw().toBuffer({ resolveWithObject: true });
        const mark = (Math.floor(height * 0.45) * info.width + Math.round(height * 0.75)) * info.channels;
        assert.ok(data[mark] < 0x40 && data[mark + 1] < 0x40, `the mark is dark: ${[data[mark], data[mark + 1], data[mark + 2]]}`);
      }
    }
  });

  it("other names under /public/widget/login/ are kauth's 404 page, as before", async () => {
    for (const url of [
      '/public/widget/login/kr/kr_04_medium.png',
      '/public/widget/login/jp/jp_01_medium.png',
      '/public/widget/login/kr/en_01_medium.png',
      '/public/widget/login/kr/kr_01_small.png',
      '/public/widget/login/kr/kr_01_medium_press.gif',
    ]) {
      const res = await h.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.match(String(res.headers['content-type']), /^text\/html/, url);
      assert.ok(res.body.includes(`There is no page at GET ${url}.`), url);
    }
  });
});
