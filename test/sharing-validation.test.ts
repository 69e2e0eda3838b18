import { after, before, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { type Form, assertApiError, form, forEachStore } from './helpers/harness.js';
import { SEED_SITE, SEED_TEMPLATES, sharingApp } from './fixtures/sharing.js';
import { expectedDefaultAnswers } from './fixtures/sharing-answers.js';
import { site } from './fixtures/story.js';

const JSON_TYPE = 'application/json;charset=UTF-8';
const DEFAULT = '/v2/api/kakaolink/talk/template/default';
const VALIDATE = '/v2/api/kakaolink/talk/template/validate';
const SCRAP = '/v2/api/kakaolink/talk/template/scrap';

const SCRAPPED_PAGE = `<!doctype html><html><head><title>ignored</title>
<meta property="og:title" content="Kapibara cafe"><meta property="og:description" content="Fresh bread every morning">
<meta property="og:image" content="/img/bread.png"><meta property="og:image:width" content="800"><meta property="og:image:height" content="400">
<meta property="og:site_name" content="Kapibara"></head><body>hello</body></html>`;

forEachStore('Kakao Talk sharing: validation', (h) => {
  let web: Awaited<ReturnType<typeof site>>;
  before(async () => {
    web = await site((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end(SCRAPPED_PAGE), 8000);
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(SCRAPPED_PAGE);
    });
  });
  after(async () => web.close());

  /** GET with the query, as Flutter and SDK v1 send it; POST form as the iOS SDK does. */
  function call(method: 'GET' | 'POST', url: string, key: string, fields: Form, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const body = form(fields);
    return h.inject({
      method,
      url: method === 'GET' ? `${url}?${body}` : url,
      headers: { authorization: `KakaoAK ${key}`, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
      payload: method === 'POST' ? body : undefined,
    });
  }

  function answer(res: LightMyRequestResponse): Record<string, unknown> {
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    const body = res.json();
    assert.ok(Number.isSafeInteger(body.template_id) && body.template_id > 0, res.body);
    return body;
  }

  it('every default template of seed 004 (feed, list, location, commerce, text) → the exact answer, by GET and by POST', async () => {
    const app = await sharingApp(h);
    const expected = expectedDefaultAnswers(app);
    for (const [type, template] of Object.entries(SEED_TEMPLATES)) {
      const viaGet = answer(await call('GET', DEFAULT, app.javascript_key, { link_ver: '4.0', template_object: template }, { origin: SEED_SITE }));
      const { template_id, ...rest } = viaGet;
      assert.deepEqual(rest, expected[type], type);
      // The same message keeps its id; the native key (apps) and POST (iOS) answer the same.
      const viaPost = answer(await call('POST', DEFAULT, app.native_key, { link_ver: '4.0', template_object: template }));
      assert.deepEqual(viaPost, viaGet, type);
      assert.equal(viaPost.template_id, template_id);
    }
  });

  it('scheme_params is echoed; KA origin of a registered web domain passes', async () => {
    const app = await sharingApp(h);
    const res = await call(
      'GET',
      DEFAULT,
      app.javascript_key,
      { link_ver: '4.0', template_object: SEED_TEMPLATES.text, scheme_params: { list: 'friend', limit: 5 } },
      { ka: `sdk/1.39.14 os/javascript sdk_type/javascript lang/en-US device/Linux origin/${encodeURIComponent(SEED_SITE)}` },
    );
    assert.deepEqual(answer(res).scheme_params, { list: 'friend', limit: 5 });
  });

  it('links outside the web domains are dropped, each with a warning at its template_msg path', async () => {
    const app = await sharingApp(h);
    const body = answer(
      await call('GET', DEFAULT, app.javascript_key, {
        link_ver: '4.0',
        template_object: {
          object_type: 'text',
          text: 'Our partner',
          link: { web_url: 'https://partner.example/page', mobile_web_url: SEED_SITE },
          buttons: [{ title: 'Partner', link: { web_url: 'https://partner.example/page' } }],
        },
      }),
    );
    const warning = 'https://partner.example/page. app does not have DOMAIN_CHECK_PASS permission. get the permission or it will be dropped.';
    assert.deepEqual(body.warning_msg, { 'P.L.LPC': warning, 'C.TI.L.LPC': warning, 'C.BUL[0].L.LPC': warning });
    assert.deepEqual((body.template_msg as any).C, {
      TI: { TD: { T: 'Our partner' }, L: { LMO: SEED_SITE }, FT: true },
      BUL: [{ BU: { T: 'Partner' }, L: {} }],
    });
    assert.deepEqual(body.argument_msg, {});
  });

  it('custom template with and without args; a missing ${arg} is reported in argument_msg', async () => {
    const app = await sharingApp(h);
    const created = await h.control('POST', `/apps/${app.id}/templates`, {
      id: 104170,
      template: {
        object_type: 'feed',
        content: { title: '${title}', description: '${description}', image_url: 'https://k.kakaocdn.net/dn/a/b/c/kakaolink40_original.png', link: { web_url: SEED_SITE } },
        buttons: [{ title: 'Open', link: { web_url: SEED_SITE } }],
      },
    });
    assert.equal(created.id, 104170);
    const msg = (title: string, description?: string) => ({
      P: {
        TP: 'Feed',
        ME: '${ME}',
        SID: `capri_${app.id}`,
        DID: SEED_SITE,
        SNM: 'Dessert Shop',
        L: { LPC: SEED_SITE },
        VA: '6.0.0',
        VI: '5.9.8',
        VW: '2.5.1',
        VM: '2.2.0',
        FW: true,
        RF: 'out-client',
      },
      C: {
        THC: 1,
        THL: [{ TH: { THU: 'https://k.kakaocdn.net/dn/a/b/c/kakaolink40_original.png' }, L: { LPC: SEED_SITE } }],
        TI: { TD: description === undefined ? { T: title } : { T: title, D: description }, L: { LPC: SEED_SITE } },
        BUL: [{ BU: { T: 'Open' }, L: { LPC: SEED_SITE } }],
      },
    });
    // Seed 004's sendCustom sample.
    const args = { title: 'This is the title area.', description: 'This is the description area.' };
    let res = await call('GET', VALIDATE, app.javascript_key, { link_ver: '4.0', template_id: 104170, template_args: args });
    assert.deepEqual(answer(res), {
      template_id: 104170,
      template_args: args,
      template_msg: msg(args.title, args.description),
      warning_msg: {},
      argument_msg: {},
    });
    // Without template_args: every ${arg} is missing; the message renders without them.
    const created2 = await h.control('POST', `/apps/${app.id}/templates`, {
      id: 104171,
      template: { object_type: 'text', text: 'Plain text, no arguments', link: { web_url: SEED_SITE } },
    });
    assert.equal(created2.id, 104171);
    res = await call('POST', VALIDATE, app.native_key, { link_ver: '4.0', template_id: 104171 });
    const plain = answer(res);
    assert.deepEqual(plain.template_args, {});
    assert.deepEqual(plain.argument_msg, {});
    assert.deepEqual((plain.template_msg as any).C.TI, { TD: { T: 'Plain text, no arguments' }, L: { LPC: SEED_SITE }, FT: true });

    res = await call('GET', VALIDATE, app.javascript_key, { link_ver: '4.0', template_id: 104170, template_args: { title: 'Only a title' } });
    assert.deepEqual(answer(res), {
      template_id: 104170,
      template_args: { title: 'Only a title' },
      template_msg: msg('Only a title'),
      warning_msg: {},
      argument_msg: { '${description}': "there's no given value." },
    });
    // Arguments are text (numbers and booleans as written); an object or array is -2 naming it.
    res = await call('GET', VALIDATE, app.javascript_key, { link_ver: '4.0', template_id: 104170, template_args: { title: { a: 1 }, description: [1, 2] } });
    assert.deepEqual([res.statusCode, res.json()], [400, { msg: 'invalid template_args.title: must be a string, a number or a boolean.', code: -2 }]);
  });

  it('scrap without a template id (a template id issued for the page), and with one (SCRAP_* arguments)', async () => {
    const app = await sharingApp(h, { web_domains: [web.origin] });
    const url = `${web.origin}/menu`;
    let res = await call('GET', SCRAP, app.javascript_key, { link_ver: '4.0', request_url: url }, { origin: web.origin });
    const scrap = answer(res);
    const args = {
      SCRAP_REQUEST_URL: url,
      SCRAP_HOST: new URL(web.origin).host,
      SCRAP_TITLE: 'Kapibara cafe',
      SCRAP_DESCRIPTION: 'Fresh bread every morning',
      SCRAP_IMAGE: `${web.origin}/img/bread.png`,
      SCRAP_IMAGE_WIDTH: '800',
      SCRAP_IMAGE_HEIGHT: '400',
      SCRAP_DURATION: '',
    };
    assert.deepEqual(scrap, {
      template_id: scrap.template_id,
      template_args: args,
      template_msg: {
        P: { TP: 'Feed', ME: '${ME}', SID: `capri_${app.id}`, DID: web.origin, SNM: 'Dessert Shop', L: { LPC: url, LMO: url }, VA: '6.0.0', VI: '5.9.8', VW: '2.5.1', VM: '2.2.0', FW: true, RF: 'out-client' },
        C: {
          THC: 1,
          THL: [{ TH: { THU: `${web.origin}/img/bread.png`, W: 800, H: 400 }, L: { LPC: url, LMO: url } }],
          TI: { TD: { T: 'Kapibara cafe', D: 'Fresh bread every morning' }, L: { LPC: url, LMO: url } },
          SC: { U: url, H: new URL(web.origin).host, SN: 'Kapibara' },
          BUL: [{ BU: { T: '자세히 보기' }, L: { LPC: url, LMO: url } }],
        },
      },
      warning_msg: {},
      argument_msg: {},
    });

    await h.control('POST', `/apps/${app.id}/templates`, {
      id: 2000,
      template: {
        object_type: 'feed',
        content: { title: '${SCRAP_TITLE}', description: '${SCRAP_DESCRIPTION} (${note})', image_url: '${SCRAP_IMAGE}', link: { web_url: '${SCRAP_REQUEST_URL}' } },
      },
    });
    // template_args cannot overwrite the scrap result (seed 004).
    res = await call('POST', SCRAP, app.native_key, { link_ver: '4.0', request_url: url, template_id: 2000, template_args: { note: 'today', SCRAP_TITLE: 'mine' } });
    const custom = answer(res);
    assert.equal(custom.template_id, 2000);
    assert.deepEqual(custom.template_args, { note: 'today', ...args });
    assert.deepEqual((custom.template_msg as any).C.TI, { TD: { T: 'Kapibara cafe', D: 'Fresh bread every morning (today)' }, L: { LPC: url } });
    assert.deepEqual(custom.argument_msg, {});
  });

  it('a template id issued for a default message is accepted later as a custom template (the Flutter web flow)', async () => {
    const app = await sharingApp(h);
    const first = answer(await call('GET', DEFAULT, app.javascript_key, { link_ver: '4.0', template_object: SEED_TEMPLATES.commerce }));
    const again = answer(await call('GET', VALIDATE, app.javascript_key, { link_ver: '4.0', template_id: first.template_id as number, template_args: first.template_args as Form }));
    assert.deepEqual(again.template_msg, first.template_msg);
    assert.deepEqual(again.template_args, first.template_args);
    // Another app does not see it.
    const other = await sharingApp(h);
    const res = await call('GET', VALIDATE, other.javascript_key, { link_ver: '4.0', template_id: first.template_id as number });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { msg: `invalid template_id: template ${first.template_id} does not exist in this app.`, code: -2 });
  });

  it('errors in the kapi shape: -2 naming the field, 400 for an invalid template, -401 for keys and domains, -3 for other key types', async () => {
    const app = await sharingApp(h);
    const cases: [LightMyRequestResponse, number, Record<string, unknown>][] = [
      [await call('GET', DEFAULT, app.javascript_key, { template_object: SEED_TEMPLATES.text }), 400, { msg: 'link_ver is required.', code: -2 }],
      [await call('GET', DEFAULT, app.javascript_key, { link_ver: '3.5', template_object: SEED_TEMPLATES.text }), 400, { msg: 'invalid link_ver: 3.5 is not supported (4.0).', code: -2 }],
      [await call('GET', DEFAULT, app.javascript_key, { link_ver: '4.0' }), 400, { msg: 'template_object is required.', code: -2 }],
      [await call('GET', DEFAULT, app.javascript_key, { link_ver: '4.0', template_object: '{"object_type":' }), 400, { msg: 'invalid template_object: not a valid JSON.', code: -2 }],
      [await call('GET', DEFAULT, app.javascript_key, { link_ver: '4.0', template_object: { object_type: 'feed' } }), 400, { msg: 'template_object.content is required.', code: -2 }],
      [
        await call('GET', DEFAULT, app.javascript_key, { link_ver: '4.0', template_object: { ...SEED_TEMPLATES.text, text: 'x'.repeat(2049) } }),
        400,
        { msg: 'invalid template_object.text: must be at most 2048 characters.', code: -2 },
      ],
      [await call('GET', DEFAULT, app.javascript_key, { link_ver: '4.0', template_object: SEED_TEMPLATES.text, scheme_params: { list: 'all' } }), 400, {
        msg: 'invalid scheme_params.list: must be one of default, friend, chat.',
        code: -2,
      }],
      [await call('GET', VALIDATE, app.javascript_key, { link_ver: '4.0' }), 400, { msg: 'template_id is required.', code: -2 }],
      [await call('GET', VALIDATE, app.javascript_key, { link_ver: '4.0', template_id: 'abc' }), 400, { msg: 'invalid template_id: Expected integer.', code: -2 }],
      [await call('GET', VALIDATE, app.javascript_key, { link_ver: '4.0', template_id: 99 }), 400, { msg: 'invalid template_id: template 99 does not exist in this app.', code: -2 }],
      [await call('GET', SCRAP, app.javascript_key, { link_ver: '4.0' }), 400, { msg: 'request_url is required.', code: -2 }],
      [await call('GET', SCRAP, app.javascript_key, { link_ver: '4.0', request_url: 'https://elsewhere.example/' }), 400, {
        msg: 'invalid request_url: https://elsewhere.example is not a registered web domain of this app.',
        code: -2,
      }],
      [await call('GET', DEFAULT, 'no-such-key', { link_ver: '4.0', template_object: SEED_TEMPLATES.text }), 401, { msg: 'invalid app key.', code: -401 }],
      [await call('GET', DEFAULT, app.javascript_key, { link_ver: '4.0', template_object: SEED_TEMPLATES.text }, { origin: 'https://evil.example' }), 401, {
        msg: 'domain mismatched! caller=https://evil.example. check out registered web domains.',
        code: -401,
      }],
      [await call('POST', VALIDATE, app.javascript_key, { link_ver: '4.0', template_id: 1 }, { ka: 'sdk/2.7.2 os/javascript sdk_type/javascript lang/ko origin/http%3A%2F%2Flocalhost%3A4000' }), 401, {
        msg: 'domain mismatched! caller=http://localhost:4000. check out registered web domains.',
        code: -401,
      }],
      [await call('GET', DEFAULT, app.rest_api_key, { link_ver: '4.0', template_object: SEED_TEMPLATES.text }), 403, { msg: `This api is not allowed by using app_key(${app.rest_api_key}).`, code: -3 }],
    ];
    for (const [res, status, body] of cases) {
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.headers['content-type'], JSON_TYPE);
      assert.deepEqual(res.json(), body);
    }
  });

  it("seed 004's text sample (337 characters) validates; template_msg carries the text as sent (Kakao Talk shows its first 200 characters)", async () => {
    const app = await sharingApp(h);
    assert.equal([...SEED_TEMPLATES.text.text].length, 337);
    const body = answer(await call('GET', DEFAULT, app.javascript_key, { link_ver: '4.0', template_object: SEED_TEMPLATES.text })) as any;
    assert.deepEqual(body.template_msg.C.TI, { TD: { T: SEED_TEMPLATES.text.text }, L: { LPC: SEED_TEMPLATES.text.link.web_url, LMO: SEED_TEMPLATES.text.link.mobile_web_url }, FT: true });
    assert.deepEqual(body.warning_msg, {});
  });

  it("a call from Kapibara's own origin (SDK v1's kapi /cors/ proxy) is checked by the page origin in KA", async () => {
    const app = await sharingApp(h);
    const fields = new URLSearchParams({ link_ver: '4.0', template_object: JSON.stringify(SEED_TEMPLATES.text) }).toString();
    const fromProxy = (pageOrigin: string) =>
      h.inject({
        method: 'GET',
        url: `${DEFAULT}?${fields}`,
        headers: {
          host: 'kapi.kakao.com',
          origin: 'http://kapi.kakao.com',
          authorization: `KakaoAK ${app.javascript_key}`,
          ka: `sdk/1.39.14 os/javascript sdk_type/javascript lang/ko-KR device/Linux origin/${encodeURIComponent(pageOrigin)}`,
        },
      });
    const ok = await fromProxy(SEED_SITE);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(Object.keys(ok.json()).sort(), ['argument_msg', 'template_args', 'template_id', 'template_msg', 'warning_msg']);
    const foreign = await fromProxy('https://evil.example');
    assert.equal(foreign.statusCode, 401);
    assert.equal(foreign.headers['www-authenticate'], 'KakaoAK error=invalid_key');
    assert.deepEqual(foreign.json(), { msg: 'domain mismatched! caller=https://evil.example. check out registered web domains.', code: -401 });
  });

  it('a scrap that does not answer in time is -603', { timeout: 20000 }, async () => {
    const app = await sharingApp(h, { web_domains: [web.origin] });
    const res = await call('GET', SCRAP, app.javascript_key, { link_ver: '4.0', request_url: `${web.origin}/slow` });
    assertApiError(res, 400, -603, 'scrap timeout');
  });
});
