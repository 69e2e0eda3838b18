import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { forEachStore } from './helpers/harness.js';

/**
 * Every answer has the shape of the surface it was meant for (DESIGN.md): kapi `{msg,code}`,
 * kauth `{error,error_description,error_code}`, control `{error}`, pages HTML. That holds
 * for errors raised before any route runs too: 404s, parser failures, bad URLs, requests
 * Node's HTTP parser refuses.
 */

const JSON_TYPE = 'application/json;charset=UTF-8';

/** Sends raw bytes to a listening server; resolves with the status line, headers and body. */
function rawRequest(origin: string, bytes: string | Buffer): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]);
      const type = /\r\ncontent-type: ([^\r]+)/i.exec(head)?.[1] ?? '';
      resolve({ status, type, body: rest.join('\r\n\r\n') });
    });
  });
}

forEachStore('error shapes by surface', (h) => {
  it('a 415 or bad form on the login page is an HTML page, not a kapi body', async () => {
    for (const [type, payload] of [
      ['text/plain', 'hello'],
      ['application/json', '{"broken'],
    ]) {
      const res = await h.inject({ method: 'POST', url: '/oauth/authorize/login', headers: { 'content-type': type }, payload });
      // Refused as a bad body, or (a text body parses) as a form without its token: a page either way.
      assert.ok([400, 403, 415].includes(res.statusCode), `${type}: ${res.statusCode}`);
      assert.match(String(res.headers['content-type']), /^text\/html/, `${type}: ${res.body}`);
      assert.match(res.body, /^<!doctype html>/);
    }
  });

  it('a body of a type the route does not take is -2 naming the type; only uploads take multipart', async () => {
    const boundary = '----kapibara';
    const multipart = `--${boundary}\r\ncontent-disposition: form-data; name="template_object"\r\n\r\n{}\r\n--${boundary}--\r\n`;
    const type = `multipart/form-data; boundary=${boundary}`;
    const memo = await h.inject({ method: 'POST', url: '/v2/api/talk/memo/default/send', headers: { 'content-type': type }, payload: multipart });
    assert.deepEqual([memo.statusCode, memo.json()], [400, { msg: 'unsupported Content-Type "multipart/form-data": send the parameters as application/x-www-form-urlencoded.', code: -2 }]);
    const control = await h.inject({ method: 'POST', url: '/_kapibara/v1/apps', headers: { 'content-type': 'text/csv', 'x-kapibara-control': '1' }, payload: 'a,b' });
    assert.deepEqual([control.statusCode, control.json()], [415, { error: 'unsupported Content-Type "text/csv": send a JSON body (application/json).' }]);
    // An upload route reads the multipart body: past the parser, to its own -401.
    const upload = await h.inject({ method: 'POST', url: '/v1/api/story/upload/multi', headers: { 'content-type': type }, payload: multipart });
    assert.deepEqual([upload.statusCode, upload.json().code], [401, -401]);
  });

  it('unknown paths answer in their surface: control, kauth, page and kapi', async () => {
    const control = await h.inject({ method: 'GET', url: '/_kapibara/v1/no/such/thing' });
    assert.deepEqual([control.statusCode, control.headers['content-type'], control.json()], [404, JSON_TYPE, { error: 'no such control-plane endpoint: GET /_kapibara/v1/no/such/thing' }]);
    // kauth's "wrong URL" (KOE002, wire facts §2.7), not KOE101, which tells the caller its app key is wrong.
    const kauth = await h.inject({ method: 'GET', url: '/oauth/nothing' });
    assert.deepEqual([kauth.statusCode, kauth.json()], [404, { error: 'invalid_request', error_description: 'no such endpoint: GET /oauth/nothing', error_code: 'KOE002' }]);
    const wrongMethod = await h.inject({ method: 'GET', url: '/oauth/token' });
    assert.deepEqual([wrongMethod.statusCode, wrongMethod.json().error_code], [404, 'KOE002']);
    const page = await h.inject({ method: 'GET', url: '/_kapibara/console/nowhere' });
    assert.equal(page.statusCode, 404);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    const kapi = await h.inject({ method: 'GET', url: '/v2/user/nothing' });
    assert.deepEqual([kapi.statusCode, kapi.json()], [404, { msg: 'no such api: GET /v2/user/nothing', code: -1 }]);
  });

  it('a path parameter too long and a malformed URL are refused in the surface shape', async () => {
    const long = await h.inject({ method: 'GET', url: `/_kapibara/v1/apps/${'9'.repeat(200)}` });
    assert.equal(long.statusCode, 414);
    assert.equal(typeof long.json().error, 'string');
    const badUrl = await h.inject({ method: 'GET', url: '/_kapibara/v1/accounts/%zz' });
    assert.equal(badUrl.statusCode, 400);
    assert.deepEqual(Object.keys(badUrl.json()), ['error']);
    const badKapi = await h.inject({ method: 'GET', url: '/v1/api/story/%zz' });
    assert.equal(badKapi.statusCode, 400);
    assert.equal(badKapi.json().code, -2);
  });

  it('a body too large is 413 on every surface, in its shape', async () => {
    const big = 'x'.repeat(13 * 1024 * 1024);
    const kapi = await h.inject({ method: 'POST', url: '/v1/user/logout', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `a=${big}` });
    assert.deepEqual([kapi.statusCode, kapi.json().code], [413, -2]);
    const kauth = await h.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `a=${big}` });
    assert.deepEqual([kauth.statusCode, kauth.json().error], [413, 'invalid_request']);
    const control = await h.inject({ method: 'POST', url: '/_kapibara/v1/apps', headers: { 'content-type': 'application/json' }, payload: `{"name":"${big}"}` });
    assert.equal(control.statusCode, 413);
    assert.deepEqual(Object.keys(control.json()), ['error']);
  });

  it('every GET answers HEAD with its status and headers and no body, on every surface', async () => {
    const app = await h.createApp();
    const person = await h.createAccount();
    const { access_token } = await h.token(app, person);
    const origin = await h.listen();
    for (const [path, headers] of [
      ['/v2/user/me', { authorization: `Bearer ${access_token}` }],
      ['/v2/user/me', {}],
      ['/.well-known/openid-configuration', {}],
      ['/_kapibara/v1/apps', {}],
      ['/_kapibara/console', {}],
      ['/no/such/path', {}],
    ] as [string, Record<string, string>][]) {
      const get = await fetch(origin + path, { headers });
      const getBody = Buffer.from(await get.arrayBuffer());
      const head = await fetch(origin + path, { method: 'HEAD', headers });
      assert.equal(head.status, get.status, path);
      assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), path);
      // (A 404 names the method it was asked with, so its length differs by one.)
      if (get.status !== 404) assert.equal(head.headers.get('content-length'), String(getBody.length), path);
      assert.equal((await head.arrayBuffer()).byteLength, 0, path);
    }
    const post = await fetch(`${origin}/v2/api/talk/memo/default/send`, { method: 'HEAD' });
    assert.equal(post.status, 404, 'a POST-only path has no HEAD');
    // A HEAD request is routed as a GET; inject (no socket) answers it alike, and what the
    // routes, the hooks and the request inspector see is the HEAD it was.
    const me = await fetch(`${origin}/v2/user/me`, { headers: { authorization: `Bearer ${access_token}` } });
    const injected = await h.inject({ method: 'HEAD', url: '/v2/user/me', headers: { authorization: `Bearer ${access_token}` } });
    assert.equal(injected.statusCode, 200);
    assert.equal(injected.body, '');
    assert.equal(injected.headers['content-length'], String((await me.arrayBuffer()).byteLength));
    const heads = await h.control('GET', `/requests?app=${app.id}&path=/v2/user/me&method=head`);
    assert.deepEqual(
      heads.requests.map((r: { method: string; status: number }) => [r.method, r.status]),
      [['HEAD', 200], ['HEAD', 200]],
    );
  });

  it('requests the HTTP parser refuses get the shape of the path they name', async () => {
    const origin = await h.listen();
    const huge = 'x'.repeat(20 * 1024);
    const control = await rawRequest(origin, `GET /_kapibara/v1/apps HTTP/1.1\r\nHost: localhost\r\nX-Big: ${huge}\r\n\r\n`);
    assert.equal(control.status, 431);
    assert.equal(control.type, JSON_TYPE);
    assert.deepEqual(Object.keys(JSON.parse(control.body)), ['error']);
    const kapi = await rawRequest(origin, `GET /v2/user/me HTTP/1.1\r\nHost: localhost\r\nX-Big: ${huge}\r\n\r\n`);
    assert.equal(kapi.status, 431);
    assert.equal(JSON.parse(kapi.body).code, -2);
    // A request line longer than what is read of it still names its surface.
    const longLine = await rawRequest(origin, `POST /oauth/token?x=${'a'.repeat(17000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    assert.equal(longLine.status, 431);
    assert.equal(JSON.parse(longLine.body).error_code, 'KOE001');
    const longControl = await rawRequest(origin, `GET /_kapibara/v1/apps?x=${'a'.repeat(17000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    assert.deepEqual([longControl.status, Object.keys(JSON.parse(longControl.body))], [431, ['error']]);
    const garbage = await rawRequest(origin, 'GET /v2/user/me HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n');
    assert.equal(garbage.status, 400);
    assert.equal(JSON.parse(garbage.body).code, -2);
  });

  it('a URL with raw (unencoded) UTF-8, which Node’s parser refuses, is a 400 saying to percent-encode it', async () => {
    const origin = await h.listen();
    // curl -g "…/v2/user/me?x=가": nginx (Kakao) takes the bytes; Node 20's parser refuses them
    // under every option it has, insecureHTTPParser included.
    const kapi = await rawRequest(origin, 'GET /v2/user/me?x=가 HTTP/1.1\r\nHost: localhost\r\n\r\n');
    assert.deepEqual([kapi.status, kapi.type, JSON.parse(kapi.body)], [
      400,
      JSON_TYPE,
      { msg: 'the request line holds a byte that is not ASCII (0xEA): percent-encode non-ASCII characters in the URL ("가" is %EA%B0%80)', code: -2 },
    ]);
    const kauth = await rawRequest(origin, 'GET /oauth/authorize/가 HTTP/1.1\r\nHost: localhost\r\n\r\n');
    assert.equal(kauth.status, 400);
    assert.match(kauth.body, /^<!doctype html>/);
    assert.match(kauth.body, /percent-encode non-ASCII characters in the URL/);
    // A byte that starts no UTF-8 character is named alone.
    const latin = await rawRequest(origin, Buffer.concat([Buffer.from('POST /oauth/token?x='), Buffer.from([0xff]), Buffer.from(' HTTP/1.1\r\nHost: localhost\r\n\r\n')]));
    assert.deepEqual([latin.status, JSON.parse(latin.body)], [
      400,
      { error: 'invalid_request', error_description: 'the request line holds a byte that is not ASCII (0xFF): percent-encode non-ASCII characters in the URL', error_code: 'KOE001' },
    ]);
  });
});
