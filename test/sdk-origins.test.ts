import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { createQueryId } from 'kysely';
import { Recorder } from './helpers/recorder.js';
import { forEachStore } from './helpers/harness.js';

/**
 * SDK v1's login widget (kauth /public/widget/login/kakaoLoginWidget.html) may be framed only
 * by a registered web domain of some app. Checking the framing page's origin costs what one
 * check should, whatever the number of apps a shared sandbox gathered, and sees every change
 * of an app's web_domains at once.
 */


const widget = (origin: string) => `/public/widget/login/kakaoLoginWidget.html?xdm_e=${encodeURIComponent(origin)}&xdm_c=default&xdm_p=1`;

forEachStore('SDK v1 login widget: the framing origin', (h) => {
  const load = async (origin: string) => (await h.inject({ method: 'GET', url: widget(origin), headers: { host: 'kauth.kakao.com' } })).statusCode;

  /** The SQL run by the platform while `run` runs. */
  async function statements(run: () => Promise<void>): Promise<string[]> {
    const platform = h.app.platform;
    const db = platform.db;
    const recorder = new Recorder();
    platform.db = db.withPlugin(recorder);
    try {
      await run();
    } finally {
      platform.db = db;
    }
    return recorder.nodes.map((node) => db.getExecutor().compileQuery(node, createQueryId()).sql);
  }

  function readsApps(sqlTexts: string[]): string[] {
    return sqlTexts.filter((text) => /\bfrom\s+"?apps"?(\s|$)/i.test(text));
  }

  it('a page load reads no app rows while no app changed, however many there are and whatever else was written', async () => {
    for (let i = 0; i < 20; i++) await h.createApp({ web_domains: [`https://site${i}.example`] });
    const app = await h.createApp({ web_domains: ['http://localhost:3000'] });
    const person = await h.createAccount();
    assert.equal(await load('http://localhost:3000'), 200);
    const ran: string[] = [];
    for (let i = 0; i < 5; i++) {
      // Logins write (tokens): the store's change stamp moves, the apps stay as they were.
      await h.token(app, person);
      ran.push(
        ...(await statements(async () => {
          assert.equal(await load('http://localhost:3000'), 200);
          assert.equal(await load('https://site7.example'), 200);
          assert.equal(await load('https://unknown.example'), 400);
        })),
      );
    }
    assert.deepEqual(readsApps(ran), [], ran.join('\n'));
    // What a load reads instead, at most, is the one row that says whether apps changed.
    assert.ok(ran.length <= 15, ran.join('\n'));
    // Each round follows a write (a login), so each reads that row at least once: the loads went through this store.
    assert.ok(ran.length >= 5, ran.join('\n'));
    for (const text of ran) assert.match(text, /^select "gen" from "sdk_web_domain_changes" where "id" = /);
  });

  it("a change of an app's web domains is seen by the next page load", async () => {
    const app = await h.createApp({ web_domains: ['http://localhost:3000'] });
    assert.equal(await load('http://shop.example:8080'), 400);
    await h.control('PATCH', `/apps/${app.id}`, { web_domains: ['http://localhost:3000', 'http://shop.example:8080'] });
    assert.equal(await load('http://shop.example:8080'), 200);
    await h.control('PATCH', `/apps/${app.id}`, { web_domains: ['http://localhost:3000'] });
    assert.equal(await load('http://shop.example:8080'), 400);
    const other = await h.createApp({ web_domains: ['shop.example'] });
    assert.equal(await load('http://shop.example:8080'), 200);
    await h.control('DELETE', `/apps/${other.id}`);
    assert.equal(await load('http://shop.example:8080'), 400);
    assert.equal(await load('http://localhost:3000'), 200);
    // A write the app's own rules do not see (plain SQL, a state import) counts too.
    await h.store.db.updateTable('apps').set({ web_domains: '[]' }).where('id', '=', app.id).execute();
    assert.equal(await load('http://localhost:3000'), 400);
    await h.control('POST', '/state', { apps: [{ name: 'imported', web_domains: ['http://localhost:3000'] }] });
    assert.equal(await load('http://localhost:3000'), 200);
    await h.reset();
    assert.equal(await load('http://localhost:3000'), 400);
  });
});
