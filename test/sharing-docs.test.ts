import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { forEachStore } from './helpers/harness.js';

/** docs/sharing.md's examples, run as written against its seed. */

const DOC = readFileSync(join(process.cwd(), 'docs', 'sharing.md'), 'utf8');
/** The bodies of the blocks whose info string starts with `lang` (```html no-run: … included). */
const block = (lang: string) => [...DOC.matchAll(new RegExp('```' + lang + '(?: [^\\n]*)?\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);

forEachStore('docs/sharing.md examples', (h) => {
  it("the validation example's call, against the page's seed, answers exactly the laid-out body", async () => {
    const seed = JSON.parse(block('json kapibara-seed')[0]);
    const res0 = await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: seed });
    assert.equal(res0.statusCode, 200, res0.body);
    // The sh block runs against the demo app (test/doc-examples.test.ts); the same fields with the seed's key and web domain.
    const curl = block('sh').find((b) => b.includes('template/validate'))!;
    const fields = [...curl.matchAll(/--data-urlencode (?:'([^=']+)=([^']*)'|([^\s=']+)=(\S+))/g)].map((m) => [m[1] ?? m[3], m[2] ?? m[4]]);
    const key = seed.apps[0].javascript_key;
    const origin = seed.apps[0].web_domains[0];
    const res = await h.inject({
      method: 'GET',
      url: `/v2/api/kakaolink/talk/template/validate?${new URLSearchParams(fields)}`,
      headers: { authorization: `KakaoAK ${key}`, origin },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), JSON.parse(block('json kapibara-response')[0]));
  });

  it('the webhook example sets the setting; the documented form fields open the sharer', async () => {
    await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: JSON.parse(block('json kapibara-seed')[0]) });
    const curl = block('sh').find((b) => b.includes('sharing_webhook'))!;
    const body = JSON.parse(/-d '([^']+)'/.exec(curl)![1]);
    const set = await h.inject({ method: 'PUT', url: '/_kapibara/v1/apps/7001/sharing_webhook', payload: body });
    assert.equal(set.statusCode, 200, set.body);
    const html = block('html')[0];
    const fields = Object.fromEntries([...html.matchAll(/name="([^"]+)" value=(?:"([^"]*)"|'([^']*)')/g)].map((m) => [m[1], (m[2] ?? m[3]).replace(/&quot;/g, '"')]));
    const res = await h.inject({
      method: 'POST',
      url: '/picker/link',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://shop.example' },
      payload: new URLSearchParams(fields).toString(),
    });
    assert.equal(res.statusCode, 303, res.body);
    assert.match(String(res.headers.location), /^\/picker\/link\?short_key=/);
  });
});
