import { describe, it, before, after } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { FetchRefused, fetchPage, isAllowedUrl, readOpenGraph } from '../src/core/fetcher.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ origin: string; hits: string[]; server: Server }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { origin: `http://127.0.0.1:${port}`, hits, server };
}

async function refusal(p: Promise<unknown>): Promise<FetchRefused> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FetchRefused, `expected FetchRefused, got ${err}`);
    return err;
  }
  assert.fail('expected the fetch to be refused');
}

const PAGE = `<!doctype html><html><head><title>Fallback title</title>
<meta property="og:title" content="Kapibara &amp; friends">
<meta property="og:description" content="A page about capybaras">
<meta property="og:site_name" content="Capy News">
<meta property="og:type" content="video.other">
<meta property="og:image" content="/img/a.png"><meta property="og:image:width" content="800"><meta property="og:image:height" content="400">
<meta property="og:image" content="https://cdn.example.com/b.jpg">
<meta property="og:video:duration" content="95">
<meta property="article:section" content="Animals">
</head><body>hi</body></html>`;

describe('page fetcher', () => {
  let site: Awaited<ReturnType<typeof serve>>;
  let other: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    other = await serve((_req, res) => res.end('<title>other</title>'));
    site = await serve((req, res) => {
      if (req.url === '/page') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      if (req.url === '/hop') return res.writeHead(302, { location: '/page' }).end();
      if (req.url === '/away') return res.writeHead(302, { location: `${other.origin}/x` }).end();
      if (req.url === '/loop') return res.writeHead(302, { location: '/loop' }).end();
      if (req.url === '/big') return res.writeHead(200, { 'content-type': 'text/html' }).end('x'.repeat(4096));
      if (req.url === '/slow') return; // never answers
      if (req.url === '/euckr') {
        const body = Buffer.from('3c7469746c653ec7d1b1b93c2f7469746c653e', 'hex'); // <title>한국</title> in EUC-KR
        return res.writeHead(200, { 'content-type': 'text/html; charset=euc-kr' }).end(body);
      }
      res.writeHead(404).end('no');
    });
  });
  after(() => {
    site.server.closeAllConnections();
    site.server.close();
    other.server.close();
  });

  it('fetches a registered page, following redirects, and reads its Open Graph data', async () => {
    const page = await fetchPage(`${site.origin}/hop`, [site.origin]);
    assert.equal(page.url, `${site.origin}/page`);
    assert.equal(page.requestedUrl, `${site.origin}/hop`);
    const og = await readOpenGraph(page.html, page.url);
    assert.deepEqual(og, {
      title: 'Kapibara & friends',
      description: 'A page about capybaras',
      siteName: 'Capy News',
      type: 'video.other',
      section: 'Animals',
      duration: 95,
      images: [
        { url: `${site.origin}/img/a.png`, width: 800, height: 400 },
        { url: 'https://cdn.example.com/b.jpg' },
      ],
    });
  });

  it('falls back to <title> and decodes the declared charset', async () => {
    const page = await fetchPage(`${site.origin}/euckr`, [site.origin]);
    assert.equal((await readOpenGraph(page.html, page.url)).title, '한국');
  });

  it('refuses an unregistered host without contacting it', async () => {
    const before = other.hits.length;
    const err = await refusal(fetchPage(`${other.origin}/x`, [site.origin]));
    assert.equal(err.reason, 'not_allowed');
    assert.equal(other.hits.length, before);
  });

  it('refuses a redirect that leaves the registered domains, without following it', async () => {
    const before = other.hits.length;
    const err = await refusal(fetchPage(`${site.origin}/away`, [site.origin]));
    assert.equal(err.reason, 'not_allowed');
    assert.equal(other.hits.length, before);
  });

  it('refuses private and loopback addresses that are not registered, before any connection', async () => {
    for (const url of ['http://10.0.0.1/', 'http://192.168.1.1/', 'http://169.254.169.254/latest', 'http://[::1]/', 'http://localhost/']) {
      const err = await refusal(fetchPage(url, ['https://example.com']));
      assert.equal(err.reason, 'not_allowed', url);
    }
  });

  it('bounds redirects, size and time', async () => {
    assert.equal((await refusal(fetchPage(`${site.origin}/loop`, [site.origin]))).reason, 'failed');
    assert.equal((await refusal(fetchPage(`${site.origin}/big`, [site.origin], { maxBytes: 1024 }))).reason, 'too_large');
    assert.equal((await refusal(fetchPage(`${site.origin}/slow`, [site.origin], { timeoutMs: 200 }))).reason, 'timeout');
    assert.equal((await refusal(fetchPage(`${site.origin}/missing`, [site.origin]))).reason, 'failed');
    assert.equal((await refusal(fetchPage('ftp://example.com/x', ['example.com']))).reason, 'bad_url');
    assert.equal((await refusal(fetchPage('not a url', ['example.com']))).reason, 'bad_url');
  });

  it('says why a page could not be fetched, once: "connection refused", not "fetch failed: fetch failed"', async () => {
    const closed = await serve((_req, res) => res.end());
    closed.server.close();
    await new Promise((r) => closed.server.once('close', r));
    const err = await refusal(fetchPage(`${closed.origin}/x`, [closed.origin]));
    assert.equal(err.reason, 'failed');
    assert.match(err.message, /^the page could not be fetched: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  it('matches registered domains by origin, or by exact host name', () => {
    const u = (s: string) => new URL(s);
    assert.ok(isAllowedUrl(u('https://example.com/a'), ['https://example.com']));
    assert.ok(isAllowedUrl(u('https://example.com:443/a'), ['https://example.com']));
    assert.ok(!isAllowedUrl(u('http://example.com/a'), ['https://example.com']));
    assert.ok(!isAllowedUrl(u('https://evil.example.com/'), ['https://example.com']));
    assert.ok(!isAllowedUrl(u('https://example.com.evil.net/'), ['https://example.com']));
    assert.ok(isAllowedUrl(u('http://example.com:8080/'), ['example.com']));
    assert.ok(!isAllowedUrl(u('http://127.0.0.1:8081/'), ['http://127.0.0.1:8080']));
    // Case, spaces and paths in the registered entries; entries that are no URL are ignored.
    assert.ok(isAllowedUrl(u('https://Example.COM/x'), [' HTTPS://example.com/ ', 'http://[bad']));
    assert.ok(isAllowedUrl(u('https://shop.test/x'), ['shop.test/path']));
    // A list is read again when it changes in place.
    const domains = ['https://a.test'];
    assert.ok(isAllowedUrl(u('https://a.test/'), domains));
    assert.ok(!isAllowedUrl(u('https://b.test/'), domains));
    domains[0] = 'https://b.test';
    assert.ok(isAllowedUrl(u('https://b.test/'), domains));
    assert.ok(!isAllowedUrl(u('https://a.test/'), domains));
    domains.push('a.test');
    assert.ok(isAllowedUrl(u('http://a.test:81/'), domains));
  });
});
