import { after, before, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { assertApiError, cookiesOf, csrfTokenOf, forEachStore } from './helpers/harness.js';
import { afterQuery, beforeInsertInto, whileDeleting } from './helpers/deletes.js';
import { STORY_ID, png, site, storyApp, storyUser, upload } from './fixtures/story.js';

const JSON_TYPE = 'application/json;charset=UTF-8';

const DESCRIPTION =
  'Kakao respects creative developers who are willing to venture out and add value to the technology. We hope to make the world a better place through creativity and innovation, allowing exclusive and easy access to our technology and services.';

/** The seed's page: developers.kakao.com behind a bit.ly short link, served on loopback. */
let web: Awaited<ReturnType<typeof site>>;
let other: Awaited<ReturnType<typeof site>>;

before(async () => {
  other = await site((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<title>other</title>'));
  web = await site((req, res) => {
    const page = (head: string) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html><head>${head}</head><body></body></html>`);
    switch (req.url) {
      case '/1wwLqDl':
        return res.writeHead(301, { location: '/' }).end();
      case '/':
        return page(`<title>ignored</title>
          <meta property="og:title" content="Kakao Developers">
          <meta property="og:type" content="website">
          <meta property="og:image" content="/dn/bc995u/hydnh8wbKi/dz59YCCjyZSXNmDgTPpPa0/img.jpg?height=630&amp;width=1200">
          <meta property="og:description" content="${DESCRIPTION}">`);
      case '/news':
        return page(`<meta property="og:title" content="뉴스"><meta property="article:section" content="IT">
          <meta property="og:type" content="article">
          <meta property="og:image" content="/1.jpg"><meta property="og:image" content="/2.jpg">
          <meta property="og:image" content="/3.jpg"><meta property="og:image" content="/4.jpg">`);
      case '/plain':
        return page('<title>Just a title</title><meta name="description" content="meta description">');
      case '/away':
        return res.writeHead(302, { location: `${other.origin}/x` }).end();
      case '/loop':
        return res.writeHead(302, { location: '/loop' }).end();
      case '/slow':
        return; // never answers
      default:
        return res.writeHead(404, { 'content-type': 'text/html' }).end('not found');
    }
  });
});
after(async () => {
  await web.close();
  await other.close();
});

forEachStore('Kakao Story: linkinfo and link stories', (h) => {
  async function setup() {
    const app = await storyApp(h, { web_domains: [web.origin] });
    return { app, ...(await storyUser(h, app)) };
  }

  it('linkinfo sample: follows the short link and reads the Open Graph data', async () => {
    const { token } = await setup();
    const res = await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: `${web.origin}/1wwLqDl` });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.deepEqual(res.json(), {
      url: `${web.origin}/`,
      requested_url: `${web.origin}/1wwLqDl`,
      host: new URL(web.origin).host,
      title: 'Kakao Developers',
      image: [`${web.origin}/dn/bc995u/hydnh8wbKi/dz59YCCjyZSXNmDgTPpPa0/img.jpg?height=630&width=1200`],
      description: DESCRIPTION,
      section: '',
      type: 'website',
    });
    assert.deepEqual(Object.keys(res.json()), ['url', 'requested_url', 'host', 'title', 'image', 'description', 'section', 'type']);
  });

  it('linkinfo: at most three images, section and type; <title> and meta description as fallbacks', async () => {
    const { token } = await setup();
    let info = (await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: `${web.origin}/news` })).json();
    assert.deepEqual(info.image, [`${web.origin}/1.jpg`, `${web.origin}/2.jpg`, `${web.origin}/3.jpg`]);
    assert.equal(info.section, 'IT');
    assert.equal(info.type, 'article');
    assert.equal(info.title, '뉴스');
    info = (await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: `${web.origin}/plain` })).json();
    assert.equal(info.title, 'Just a title');
    assert.equal(info.description, 'meta description');
    assert.deepEqual(info.image, []);
  });

  it('linkinfo errors: -604 for unregistered hosts (never contacted), failures and bad urls; -603 on timeout', async () => {
    const { token } = await setup();
    const before = other.hits.length;
    assertApiError(await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: `${other.origin}/x` }), 400, -604);
    assertApiError(await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: `${web.origin}/away` }), 400, -604);
    assert.equal(other.hits.length, before, 'an unregistered host is never contacted, not even through a redirect');
    assertApiError(await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: `${web.origin}/missing` }), 400, -604);
    assertApiError(await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: `${web.origin}/loop` }), 400, -604);
    assertApiError(await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: 'not a url' }), 400, -604);
    assertApiError(await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: 'ftp://127.0.0.1/x' }), 400, -604);
    assertApiError(await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: 'http://169.254.169.254/latest/meta-data' }), 400, -604);
    assertApiError(await h.kapi('GET', '/v1/api/story/linkinfo', token), 400, -2, 'url');
    assertApiError(await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: `${web.origin}/${'가'.repeat(1000)}` }), 400, -604, 'longer');
    assertApiError(await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: `${web.origin}/slow` }), 400, -603);
  });

  it('the Story share pages whose app or person is deleted while they store a scrap, a session, a profile or the story answer as after the delete (KOE101, sign in again), never a 500', async () => {
    const form = (fields: Record<string, string>, cookie: string) => ({
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      payload: new URLSearchParams(fields).toString(),
    });
    const cases = [
      { step: 'login', table: 'login_sessions', gone: 'person' },
      { step: 'preview', table: 'story_scraps', gone: 'app' },
      { step: 'preview', table: 'story_scraps', gone: 'person' },
      { step: 'post', table: 'story_profiles', gone: 'person' },
      { step: 'post', table: 'stories', gone: 'app' },
      { step: 'post', table: 'stories', gone: 'person' },
    ] as const;
    for (const c of cases) {
      const what = `${c.step}, ${c.table}, ${c.gone} gone`;
      const { app, person } = await setup();
      const share = new URLSearchParams({ url: `${web.origin}/news`, app_key: app.javascript_key, text: 'look' });
      const remove = () => h.control('DELETE', c.gone === 'app' ? `/apps/${app.id}` : `/accounts/${person.id}`);
      // The story is stored in a transaction of its own: the delete lands right after the profile is read.
      const held = (table: string) => (table === 'stories' ? afterQuery(h.store, 'select * from "story_profiles" where "account_id" =', remove) : beforeInsertInto(h.store, table, remove));
      const racing = (table: string, send: () => Promise<LightMyRequestResponse>) => whileDeleting(held(table), send, () => what);
      if (c.table === 'stories') await h.control('PUT', `/accounts/${person.id}/story-profile`, { nickname: 'Story me' });

      const signInPage = await h.inject({ method: 'GET', url: `/s/share?${share}` });
      assert.match(signInPage.body, /Log in to share on Kakao Story/);
      const login = () => h.inject({ method: 'POST', url: '/s/share/login', ...form({ ...Object.fromEntries(share), csrf_token: csrfTokenOf(signInPage.body), account_id: String(person.id) }, cookiesOf(signInPage)) });
      if (c.step === 'login') {
        const res = await racing(c.table, login);
        assert.equal(res.statusCode, 401, `${what}: ${res.body.slice(-300)}`);
        assert.match(res.body, /That person does not exist any more\. Pick another one\./, what);
        continue;
      }
      const signedIn = await login();
      assert.equal(signedIn.statusCode, 303, signedIn.body);
      const cookie = cookiesOf(signInPage, signedIn);
      const preview = () => h.inject({ method: 'GET', url: `/s/share?${share}`, headers: { cookie } });
      let res: LightMyRequestResponse;
      if (c.step === 'preview') res = await racing(c.table, preview);
      else {
        const confirm = await preview();
        assert.match(confirm.body, /id="preview-title"/, confirm.body);
        const fields = { url: share.get('url')!, app_key: app.javascript_key, shown_text: 'look', text: 'look', permission: 'A', csrf_token: csrfTokenOf(confirm.body) };
        res = await racing(c.table, () => h.inject({ method: 'POST', url: '/s/share', ...form(fields, cookiesOf(signInPage, signedIn, confirm)) }));
      }
      if (c.gone === 'app') {
        assert.equal(res.statusCode, 400, `${what}: ${res.body.slice(-300)}`);
        assert.match(res.body, /id="error-code">KOE101</, what);
        assert.match(res.body, /is not the JavaScript key of an app/, what);
      } else {
        // Signed out with the person: the page's sign-in, as after the delete.
        assert.equal(res.statusCode, 200, `${what}: ${res.body.slice(-300)}`);
        assert.match(res.body, /Log in to share on Kakao Story/, what);
        if (c.step === 'post') assert.match(res.body, /Your Kakao session ended\. Log in again\./, what);
      }
    }
  });

  it('link sample: posts the scraped link_info (title and description edited) and lists it as NOT_SUPPORTED', async () => {
    const { token, person } = await setup();
    const scraped = (await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: `${web.origin}/1wwLqDl` })).json();
    const linkInfo = {
      ...scraped,
      title: 'Kakao Developers_',
      description: '더 나은 세상을 꿈꾸고 그것을 현실로 만드는 이를 위하여 카카오에서 앱 개발 플랫폼 서비스를 시작합니다.',
    };
    const res = await h.inject({
      method: 'POST',
      url: '/v1/api/story/post/link',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `link_info=${encodeURIComponent(JSON.stringify(linkInfo, null, 1))}&content=${encodeURIComponent('better than expected!')}`,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    const { id } = res.json();
    assert.match(id, STORY_ID);

    const [first] = (await h.kapi('GET', '/v1/api/story/mystories', token)).json();
    assert.deepEqual(first, {
      id,
      url: first.url,
      media_type: 'NOT_SUPPORTED',
      created_at: first.created_at,
      comment_count: 0,
      like_count: 0,
      content: 'better than expected!',
      permission: 'PUBLIC',
    });
    const [stored] = await h.control('GET', `/accounts/${person.id}/stories`);
    assert.equal(stored.link_info.title, 'Kakao Developers_');
    assert.equal(stored.link_info.url, `${web.origin}/`);
    const page = await h.inject({ method: 'GET', url: new URL(first.url).pathname });
    assert.ok(page.body.includes('Kakao Developers_'));
  });

  it('mystories sample: a note, a photo and a link story, newest first, each in its documented shape', async () => {
    const { token, person } = await setup();
    const friend = await h.createAccount({ nickname: 'friend' });
    await h.befriend(person, friend);
    const note = (await h.kapi('POST', '/v1/api/story/post/note', token, { content: 'A Rainbow - William Wordsworth\n\n...' })).json().id;
    await h.advanceClock(3);
    const path = (await upload(h, token, [{ name: 'file', filename: 'img.png', data: await png(150, 150) }])).json()[0];
    const photo = (await h.kapi('POST', '/v1/api/story/post/photo', token, { image_url_list: [path], content: 'This cafe is really awesome!' })).json().id;
    await h.advanceClock(6);
    const scraped = (await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: `${web.origin}/1wwLqDl` })).json();
    const link = (await h.kapi('POST', '/v1/api/story/post/link', token, { link_info: scraped, content: 'better than expected!' })).json().id;
    await h.control('PUT', `/stories/${photo}/likes/${friend.id}`, { emotion: 'LIKE' });
    await h.control('POST', `/stories/${photo}/comments`, { account_id: friend.id, text: 'where?' });

    const res = await h.kapi('GET', '/v1/api/story/mystories', token);
    assert.equal(res.statusCode, 200);
    const [l, p, n] = res.json();
    assert.deepEqual([l.id, p.id, n.id], [link, photo, note]);
    assert.deepEqual(Object.keys(l), ['id', 'url', 'media_type', 'created_at', 'comment_count', 'like_count', 'content', 'permission']);
    assert.equal(l.media_type, 'NOT_SUPPORTED');
    assert.deepEqual(Object.keys(p), ['id', 'url', 'media_type', 'created_at', 'comment_count', 'like_count', 'content', 'media', 'permission']);
    assert.deepEqual([p.media_type, p.comment_count, p.like_count], ['PHOTO', 1, 1]);
    assert.match(p.media[0].original, /\/img\.png\?width=150&height=150$/);
    for (const size of ['xlarge', 'large', 'medium', 'small']) assert.match(p.media[0][size], /\/img_(xl|l|m|s)\.jpg\?width=150&height=150$/);
    assert.deepEqual([n.media_type, n.content], ['NOTE', 'A Rainbow - William Wordsworth\n\n...']);
    assert.ok(l.created_at > p.created_at && p.created_at > n.created_at);
    for (const s of [l, p, n]) assert.equal(new URL(s.url).pathname, `/story/${s.id.replace('.', '/')}`);
    // The seed's `curl -G … -d "last_id={STORY_ID}"`.
    const after = (await h.kapi('GET', '/v1/api/story/mystories', token, { last_id: link })).json();
    assert.deepEqual(after.map((s: { id: string }) => s.id), [photo, note]);
  });

  it('post/link takes only a link_info this person scraped through this app', async () => {
    const { app, token, person } = await setup();
    const scraped = (await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: `${web.origin}/news` })).json();
    const post = (t: string, linkInfo: unknown) => h.kapi('POST', '/v1/api/story/post/link', t, { link_info: linkInfo as object, content: 'x' });

    assertApiError(await post(token, { ...scraped, url: 'https://example.com/' }), 400, -2, 'link_info');
    assertApiError(await post(token, { ...scraped, requested_url: 'http://bit.ly/other' }), 400, -2, 'link_info');
    assertApiError(await post(token, { ...scraped, image: ['https://evil.example/x.jpg'] }), 400, -2, 'link_info');
    assertApiError(await post(token, { ...scraped, host: 'evil.example' }), 400, -2, 'link_info');
    assertApiError(await h.kapi('POST', '/v1/api/story/post/link', token, { link_info: '{not json', content: 'x' }), 400, -2, 'link_info');
    assertApiError(await h.kapi('POST', '/v1/api/story/post/link', token, { link_info: ['a'], content: 'x' }), 400, -2, 'link_info');
    assertApiError(await h.kapi('POST', '/v1/api/story/post/link', token, { content: 'x' }), 400, -2, 'link_info');
    assertApiError(await h.kapi('POST', '/v1/api/story/post/link', token, { link_info: scraped, content: 'x'.repeat(2049) }), 400, -2, 'content');
    assertApiError(await h.kapi('POST', '/v1/api/story/post/link', token, { link_info: scraped, permission: 'Z' }), 400, -2, 'permission');

    const someoneElse = await storyUser(h, app);
    assertApiError(await post(someoneElse.token, scraped), 400, -2, 'link_info');
    const otherApp = await storyApp(h, { web_domains: [web.origin] });
    assertApiError(await post((await h.token(otherApp, person)).access_token, scraped), 400, -2, 'link_info');

    // The minimal form: just the url of a page it scraped, with fewer images.
    let res = await post(token, { url: scraped.url, image: scraped.image.slice(1) });
    assert.equal(res.statusCode, 200, res.body);
    res = await post(token, scraped);
    assert.equal(res.statusCode, 200, res.body);
  });
});
