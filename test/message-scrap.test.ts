import { after, before, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { assertApiError, forEachStore } from './helpers/harness.js';
import { member, messagesOf, talkApp } from './talk-helpers.js';

/**
 * Scrap sends fetch a real page from a local server registered as the app's web domain.
 * A second local server is NOT registered: it counts every request it gets, and must get none.
 */

interface Site {
  server: Server;
  origin: string;
  hits: string[];
}

async function startSite(handler: (req: IncomingMessage, res: ServerResponse, site: Site) => void): Promise<Site> {
  const site = { hits: [] as string[] } as Site;
  site.server = createServer((req, res) => {
    site.hits.push(req.url ?? '');
    handler(req, res, site);
  });
  await new Promise<void>((resolve) => site.server.listen(0, '127.0.0.1', resolve));
  site.origin = `http://127.0.0.1:${(site.server.address() as { port: number }).port}`;
  return site;
}

const ARTICLE = (origin: string) => `<!doctype html><html><head>
<meta charset="utf-8"><title>fallback title</title>
<meta property="og:title" content="카카오 개발자 블로그">
<meta property="og:description" content="카카오의 기술과 서비스 이야기">
<meta property="og:site_name" content="Kakao Tech">
<meta property="og:type" content="video.other">
<meta property="og:image" content="${origin}/images/cover.png">
<meta property="og:image:width" content="800">
<meta property="og:image:height" content="400">
<meta property="video:duration" content="95">
</head><body>본문</body></html>`;

let registered: Site;
let outside: Site;

before(async () => {
  outside = await startSite((_req, res) => res.end('<title>should never be fetched</title>'));
  registered = await startSite((req, res, site) => {
    switch (req.url) {
      case '/article':
        res.setHeader('content-type', 'text/html; charset=utf-8');
        return res.end(ARTICLE(site.origin));
      case '/plain':
        res.setHeader('content-type', 'text/html; charset=utf-8');
        return res.end('<html><head><title>Plain page</title><meta name="description" content="no open graph"></head></html>');
      case '/redirect-in':
        res.writeHead(302, { location: '/article' });
        return res.end();
      case '/redirect-away':
        res.writeHead(302, { location: `${outside.origin}/landing` });
        return res.end();
      case '/big':
        res.setHeader('content-type', 'text/html');
        return res.end(`<html><head><title>big</title></head><body>${'x'.repeat(3 * 1024 * 1024)}</body></html>`);
      case '/slow':
        setTimeout(() => res.end('<title>late</title>'), 8000).unref();
        return;
      default:
        res.statusCode = 404;
        return res.end('not found');
    }
  });
});

after(async () => {
  registered.server.closeAllConnections();
  outside.server.closeAllConnections();
  await new Promise((r) => registered.server.close(r));
  await new Promise((r) => outside.server.close(r));
});

forEachStore('Scrap messages', (h) => {
  async function setup() {
    const app = await talkApp(h, { web_domains: [registered.origin] });
    const me = await member(h, app, { nickname: 'Me' });
    return { app, me };
  }

  it('reproduces seed 001 (request_url only): reads the Open Graph data into a scrap message', async () => {
    const { me } = await setup();
    const res = await h.inject({
      method: 'POST',
      url: '/v2/api/talk/memo/scrap/send',
      headers: { authorization: `Bearer ${me.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `request_url=${registered.origin}/article`,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { result_code: 0 });
    const [message] = (await messagesOf(h, me, 'memo')).messages;
    assert.equal(message.template_type, 'scrap');
    const host = new URL(registered.origin).host;
    assert.deepEqual(message.template, {
      object_type: 'scrap',
      request_url: `${registered.origin}/article`,
      url: `${registered.origin}/article`,
      host,
      title: '카카오 개발자 블로그',
      description: '카카오의 기술과 서비스 이야기',
      image_url: `${registered.origin}/images/cover.png`,
      image_width: 800,
      image_height: 400,
      site_name: 'Kakao Tech',
      duration: 95,
      buttons: [{ title: '자세히 보기', link: { web_url: `${registered.origin}/article`, mobile_web_url: `${registered.origin}/article` } }],
    });
    // Redirects inside the registered domains are followed; <title> and description are fallbacks.
    await h.kapi('POST', '/v2/api/talk/memo/scrap/send', me.token, { request_url: `${registered.origin}/redirect-in` });
    await h.kapi('POST', '/v2/api/talk/memo/scrap/send', me.token, { request_url: `${registered.origin}/plain` });
    const { messages } = await messagesOf(h, me, 'memo');
    assert.equal(messages[1].template.url, `${registered.origin}/article`);
    assert.equal(messages[1].template.request_url, `${registered.origin}/redirect-in`);
    assert.equal(messages[0].template.title, 'Plain page');
    assert.equal(messages[0].template.description, 'no open graph');
  });

  it('fills the SCRAP_* arguments of a custom scrap template; template_args cannot overwrite them', async () => {
    const { app, me } = await setup();
    const template = await h.control('POST', `/apps/${app.id}/templates`, {
      name: 'scrap card',
      template: {
        object_type: 'feed',
        content: {
          title: '${SCRAP_TITLE}',
          description: '${SCRAP_DESCRIPTION} (${SCRAP_HOST}, ${SCRAP_DURATION}초)',
          image_url: '${SCRAP_IMAGE}',
          image_width: '${SCRAP_IMAGE_WIDTH}',
          image_height: '${SCRAP_IMAGE_HEIGHT}',
          link: { web_url: '${SCRAP_REQUEST_URL}' },
        },
        buttons: [{ title: '${LABEL}', link: { mobile_web_url: '${SCRAP_REQUEST_URL}' } }],
      },
    });
    const url = `${registered.origin}/article`;
    const res = await h.kapi('POST', '/v2/api/talk/memo/scrap/send', me.token, {
      request_url: url,
      template_id: template.id,
      template_args: JSON.stringify({ LABEL: '읽으러 가기', SCRAP_TITLE: 'overwritten?' }),
    });
    assert.deepEqual(res.json(), { result_code: 0 }, res.body);
    const [message] = (await messagesOf(h, me, 'memo')).messages;
    assert.equal(message.template_id, template.id);
    assert.deepEqual(message.template, {
      object_type: 'feed',
      content: {
        title: '카카오 개발자 블로그',
        description: `카카오의 기술과 서비스 이야기 (${new URL(registered.origin).host}, 95초)`,
        image_url: `${registered.origin}/images/cover.png`,
        image_width: 800,
        image_height: 400,
        link: { web_url: url },
      },
      buttons: [{ title: '읽으러 가기', link: { mobile_web_url: url } }],
    });
    // A page without an image leaves the image fields out.
    await h.kapi('POST', '/v2/api/talk/memo/scrap/send', me.token, { request_url: `${registered.origin}/plain`, template_id: template.id, args: JSON.stringify({ LABEL: 'x' }) });
    const latest = (await messagesOf(h, me, 'memo')).messages[0];
    assert.equal(latest.template.content.title, 'Plain page');
    assert.equal('image_url' in latest.template.content, false);
    // An argument left out is rendered empty (as sharing validation renders it): a button
    // title must not be empty, so this one is -2 naming the field it left empty.
    assert.deepEqual((await h.kapi('POST', '/v2/api/talk/memo/scrap/send', me.token, { request_url: url, template_id: template.id })).json(), {
      msg: `template(${template.id}).buttons[0].title is required.`,
      code: -2,
    });
  });

  it('sends scraps to friends', async () => {
    const { app, me } = await setup();
    const ryan = await member(h, app, { nickname: 'Ryan' });
    await h.befriend(me, ryan);
    const res = await h.kapi('POST', '/v1/api/talk/friends/message/scrap/send', me.token, {
      receiver_uuids: JSON.stringify([ryan.uuid]),
      request_url: `${registered.origin}/article`,
    });
    assert.deepEqual(res.json(), { successful_receiver_uuids: [ryan.uuid] }, res.body);
    assert.equal((await messagesOf(h, ryan, String(me.id))).messages[0].template.site_name, 'Kakao Tech');
  });

  it('refuses, without fetching, unregistered hosts, redirects to them and unregistered private addresses', async () => {
    const { me } = await setup();
    outside.hits.length = 0;
    const send = (request_url: string) => h.kapi('POST', '/v2/api/talk/memo/scrap/send', me.token, { request_url });
    // An unregistered host (here a private loopback server on another port).
    let res = await send(`${outside.origin}/page`);
    assertApiError(res, 400, -2, 'invalid request_url');
    assert.ok(res.json().msg.includes('not a registered web domain'), res.body);
    // A redirect from a registered page to an unregistered host is not followed.
    res = await send(`${registered.origin}/redirect-away`);
    assertApiError(res, 400, -2, 'invalid request_url');
    // Private and link-local addresses nobody registered.
    assertApiError(await send('http://10.0.0.1/admin'), 400, -2, 'invalid request_url');
    assertApiError(await send('http://169.254.169.254/latest/meta-data/'), 400, -2, 'invalid request_url');
    assertApiError(await send('http://localhost:1/'), 400, -2, 'invalid request_url');
    // The seed's own sample URL is not one of this app's domains either.
    assertApiError(await send('https://developers.kakao.com'), 400, -2, 'invalid request_url');
    assert.deepEqual(outside.hits, []);
    // Not a web URL at all.
    assertApiError(await send('ftp://127.0.0.1/file'), 400, -2, 'request_url');
    assertApiError(await send('not a url'), 400, -2, 'request_url');
    assertApiError(await h.kapi('POST', '/v2/api/talk/memo/scrap/send', me.token, {}), 400, -2, 'request_url is required');
    assert.equal((await messagesOf(h, me)).total_count, 0);
  });

  it('refuses oversized pages (-604), missing pages (-604) and slow servers (-603)', async () => {
    const { me } = await setup();
    const send = (path: string) => h.kapi('POST', '/v2/api/talk/memo/scrap/send', me.token, { request_url: `${registered.origin}${path}` });
    assertApiError(await send('/big'), 400, -604, 'larger than');
    assertApiError(await send('/missing'), 400, -604, 'HTTP 404');
    assertApiError(await send('/slow'), 400, -603, 'scrap timeout');
    assert.equal((await messagesOf(h, me)).total_count, 0);
  });
});
