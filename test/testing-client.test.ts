import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { KapibaraError, mapFetch, startKapibara } from '../src/testing.js';

const require = createRequire(import.meta.url);

/** kapibara/testing's client says in its types what its calls resolve to (docs/testing.md). */
it('people.byEmail resolves the person, or undefined for an unknown email, and is typed so', async () => {
  const kakao = await startKapibara({ demo: false });
  try {
    const ryan = await kakao.control.people.create({ nickname: 'Ryan', email: 'ryan@example.com' });
    const found = await kakao.control.people.byEmail('ryan@example.com');
    // @ts-expect-error: an unknown email resolves undefined, so an app must check before reading
    assert.equal(found.id, ryan.id);
    assert.equal(await kakao.control.people.byEmail('nobody@example.com'), undefined);
    // What it reads (docs/control-plane.md): a list, empty for an unknown email, never a 404.
    const unknown = await fetch(`${kakao.url}/_kapibara/v1/accounts?email=nobody%40example.com`);
    assert.equal(unknown.status, 200);
    assert.deepEqual(await unknown.json(), []);
    const known = await fetch(`${kakao.url}/_kapibara/v1/accounts?email=ryan%40example.com`);
    assert.deepEqual((await known.json()).map((p: { id: number }) => p.id), [ryan.id]);
  } finally {
    await kakao.stop();
  }
});

it('people.list and apps.list take a page ({ after, limit }); talk.chats and talk.messages page by `before` (docs/testing.md)', async () => {
  const kakao = await startKapibara({ demo: false });
  try {
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await kakao.control.people.create({ nickname: `p${i}` })).id);
    const first = await kakao.control.people.list({ limit: 3 });
    const rest = await kakao.control.people.list({ after: first[first.length - 1].id, limit: 3 });
    assert.deepEqual([...first, ...rest].map((p) => p.id), made.sort((a, b) => a - b));
    const app = await kakao.control.apps.create({ consent_items: { profile_nickname: 'required', talk_message: 'optional' } });
    assert.deepEqual((await kakao.control.apps.list({ after: app.id - 1, limit: 1 })).map((a) => a.id), [app.id]);
    const { access_token: token } = await kakao.control.tokens(app.id, made[0]);
    for (const text of ['one', 'two', 'three']) {
      const sent = await fetch(`${kakao.url}/v2/api/talk/memo/default/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ template_object: JSON.stringify({ object_type: 'text', text, link: { android_execution_params: 'a=1' } }) }),
      });
      assert.equal(sent.status, 200, await sent.text());
    }
    const page1 = await kakao.control.talk.messages(made[0], { chat: 'memo', limit: 2 });
    assert.equal(page1.total_count, 3);
    const page2 = await kakao.control.talk.messages(made[0], { before: page1.next, limit: 2 });
    assert.deepEqual([...page1.messages, ...page2.messages].map((m) => m.template.text), ['three', 'two', 'one']);
    assert.equal(page2.next, undefined);
    const chats = await kakao.control.talk.chats(made[0]);
    assert.deepEqual(chats.chats.map((c) => [c.id, c.message_count]), [['memo', 3]]);
  } finally {
    await kakao.stop();
  }
});

it('mapFetch: Node’s own fetch reaches Kapibara’s TLS port for https://kapi.kakao.com and kauth.kakao.com; other hosts keep their dispatcher; restore undoes it', async () => {
  const kakao = await startKapibara({ demo: false, tls: true });
  const dispatcherKey = Symbol.for('undici.globalDispatcher.1');
  await (await fetch('data:,')).arrayBuffer(); // Node's fetch has installed its own dispatcher
  const before = (globalThis as Record<symbol, unknown>)[dispatcherKey];
  try {
    assert.ok(kakao.tls && kakao.tls.port > 0 && kakao.tls.cert.includes('BEGIN CERTIFICATE'));
    const mapping = await mapFetch(kakao.tls.port, kakao.tls.cert);
    try {
      // The control client's plain http://127.0.0.1 calls go through the dispatcher that was there.
      const app = await kakao.control.apps.create({ consent_items: { profile_nickname: 'required' } });
      const ryan = await kakao.control.people.create({ nickname: 'Ryan' });
      const tokens = await kakao.control.tokens(app.id, ryan.id);
      const me = await fetch('https://kapi.kakao.com/v2/user/me', { headers: { Authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(me.status, 200);
      assert.equal((await me.json()).kakao_account.profile.nickname, 'Ryan');
      // A client that sets its own Content-Length (an npm undici 7 Agent fails this one under Node 20).
      const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: tokens.refresh_token }).toString();
      const refreshed = await fetch('https://kauth.kakao.com/oauth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(form)) },
        body: form,
      });
      assert.equal(refreshed.status, 200, await refreshed.clone().text());
      assert.equal(typeof (await refreshed.json()).access_token, 'string');
      // The request reached Kapibara as https://kapi.kakao.com (Host kept).
      const { requests } = await kakao.control.requests.list({ app: app.id, path: '/v2/user/me' });
      assert.deepEqual(requests.map((r) => r.status), [200]);
    } finally {
      await mapping.restore();
    }
    assert.ok(before);
    assert.equal((globalThis as Record<symbol, unknown>)[dispatcherKey], before);
  } finally {
    await kakao.stop();
  }
});

it('people.list() and apps.list() without a page give every one, page after page; with a page, that page', async () => {
  const kakao = await startKapibara({ demo: false });
  try {
    const accounts = Array.from({ length: 1003 }, (_, i) => ({ id: 5000 + i, nickname: `p${i}` }));
    await kakao.control.call('POST', '/state', { version: 1, accounts });
    const everyone = await kakao.control.people.list();
    assert.deepEqual(everyone.map((p) => p.id), accounts.map((a) => a.id));
    const page = await kakao.control.people.list({ after: 5999, limit: 2 });
    assert.deepEqual(page.map((p) => p.id), [6000, 6001]);
    assert.deepEqual(await kakao.control.apps.list(), []);
  } finally {
    await kakao.stop();
  }
});

it('startKapibara({ lockWaitMs }) bounds how long a call waits for a lock another connection holds', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'kapibara-lock-wait-'));
  const file = join(folder, 'kapibara.sqlite');
  const kakao = await startKapibara({ demo: false, sqlitePath: file, lockWaitMs: 200 });
  // Another process holds the file's write lock for 2 s: a call told to wait 0.2 s has given
  // up by then, where the default (5 s) waits it out. (In this process, the server's
  // synchronous wait would keep the holder from letting go.)
  const holder = spawn(
    process.execPath,
    ['-e', `const db = new (require(${JSON.stringify(require.resolve('better-sqlite3'))}))(${JSON.stringify(file)}); db.exec('BEGIN IMMEDIATE'); console.log('held'); setTimeout(() => db.exec('ROLLBACK'), 2000);`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await new Promise((resolve, reject) => {
      holder.stdout!.once('data', resolve);
      holder.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
    });
    await assert.rejects(kakao.control.people.create({ nickname: 'Ryan' }), (err: KapibaraError) => {
      assert.equal(err.status, 503);
      assert.match(err.message, /gave up waiting for a lock another connection to the database held/);
      return true;
    });
    await new Promise((resolve) => holder.once('exit', resolve));
    assert.equal((await kakao.control.people.create({ nickname: 'Ryan' })).nickname, 'Ryan');
  } finally {
    holder.kill();
    await kakao.stop();
    rmSync(folder, { recursive: true, force: true });
  }
});
