import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/harness.js';
import { member } from './talk-helpers.js';

/**
 * Numeric ids come from the store (db/ids.ts): unique by construction, not drawn at
 * random (10-digit random ids collided after some 10^5 rows: a 20k-person seed failed one
 * time in fifty). Rows that bring their own ids (an import, a seed, an explicit id) move the
 * issued ids past theirs; on PostgreSQL each table's own sequence (Talk messages) too.
 */
forEachStore('ids issued by the store', (h) => {
  it('ids increase and never repeat, apps in their own space', async () => {
    const people = [];
    for (let i = 0; i < 50; i++) people.push(await h.createAccount({ nickname: `n${i}` }));
    const ids = people.map((p) => p.id);
    assert.equal(new Set(ids).size, 50);
    assert.deepEqual([...ids].sort((x, y) => x - y), ids, 'issued in order');
    assert.ok(ids[0] >= 10_000_000_000 && ids[49] < Number.MAX_SAFE_INTEGER);
    const app = await h.createApp({});
    assert.ok(app.id >= 10_000_000 && app.id < 100_000_000, `app id ${app.id}`);
  });

  it('an issued id that another instance took first (its own id, written between the draw and the insert) is drawn again', async () => {
    const before = await h.createAccount();
    const app = await h.createApp();
    // The next ids the store will issue, taken by rows written without moving it (as another
    // instance's explicit-id insert does between this one's draw and insert).
    await h.store.db.insertInto('accounts').values({ ...(await h.store.db.selectFrom('accounts').selectAll().where('id', '=', before.id).executeTakeFirstOrThrow()), id: before.id + 1, email: 'took@example.com' }).execute();
    await h.store.db.insertInto('apps').values({ ...(await h.store.db.selectFrom('apps').selectAll().where('id', '=', app.id).executeTakeFirstOrThrow()), id: app.id + 1, rest_api_key: 'r'.repeat(32), native_key: 'n'.repeat(32), javascript_key: 'j'.repeat(32), admin_key: 'd'.repeat(32) }).execute();
    const person = await h.createAccount();
    assert.ok(person.id > before.id + 1, `${person.id}`);
    const another = await h.createApp();
    assert.ok(another.id > app.id + 1, `${another.id}`);
  });

  it('an explicit id, and an imported state, move the issued ids past theirs', async () => {
    const high = 10_000_000_000 + 5_000_000;
    await h.control('POST', '/accounts', { id: high, nickname: 'Explicit' });
    const next = await h.createAccount({ nickname: 'After' });
    assert.ok(next.id > high, `${next.id} > ${high}`);

    await h.createApp({});
    const state = await h.control<Record<string, unknown[]>>('GET', '/state');
    const template = (state.apps as Record<string, unknown>[])[0];
    const imported = 10_000_000_000 + 9_000_000;
    (state.accounts as Record<string, unknown>[]).push({ ...(state.accounts as Record<string, unknown>[])[0], id: imported, email: 'imported@example.com' });
    (state.apps as Record<string, unknown>[]).push({ ...template, id: 50_000_000, rest_api_key: 'a'.repeat(32), native_key: 'b'.repeat(32), javascript_key: 'c'.repeat(32), admin_key: 'd'.repeat(32) });
    await h.control('PUT', '/state', state);
    assert.ok((await h.createAccount({ nickname: 'Later' })).id > imported);
    assert.ok((await h.createApp({})).id > 50_000_000);
  });

  it('the largest id the control plane takes (2^53-1), explicit or imported, leaves the issued ids where they were: people, links, apps and profiles are still made', async () => {
    const max = Number.MAX_SAFE_INTEGER;
    await h.control('POST', '/accounts', { id: max, nickname: 'Max' });
    await h.control('POST', '/apps', { id: max, name: 'Max app' });
    const check = async () => {
      const people = [];
      for (let i = 0; i < 3; i++) people.push(await h.createAccount({ nickname: `after ${i}` }));
      const app = await h.createApp({});
      const tokens = [];
      for (const p of people) tokens.push(await h.token(app, p));
      const ids = [...people.map((p) => p.id), ...tokens.map((t) => t.user_id), app.id];
      assert.equal(new Set(ids).size, ids.length, `distinct: ${ids}`);
      for (const id of ids) assert.ok(Number.isSafeInteger(id) && id < max, `${id} is an exact id below 2^53-1`);
      const profile = await h.control('POST', `/accounts/${people[0].id}/talk/profiles`, { nickname: 'second face' });
      assert.ok(Number.isSafeInteger(profile.id) && profile.id < max);
    };
    await check();
    // The same from a state document (here with a custom template of the largest id too).
    const app = await h.createApp({});
    await h.control('POST', `/apps/${app.id}/templates`, { id: max, name: 'max', template: { object_type: 'text', text: 'x', link: { web_url: 'http://localhost:3000/' } } });
    const state = await h.control('GET', '/state');
    await h.control('POST', '/reset');
    await h.control('PUT', '/state', state);
    await check();
  });

  it('Talk messages sent after an import with high message ids are stored, not refused', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', talk_message: 'optional' } });
    const me = await member(h, app, {}, ['profile_nickname', 'talk_message']);
    const send = (n: number) => h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: { object_type: 'text', text: `m${n}`, link: { web_url: 'http://localhost:3000/' } } });
    const first = await send(1);
    assert.equal(first.statusCode, 200, first.body);
    const state = await h.control<Record<string, Record<string, unknown>[]>>('GET', '/state');
    // The imported messages take the ids the store would have issued next.
    const [sent] = state.talk_messages;
    for (let i = 1; i <= 4; i++) state.talk_messages.push({ ...sent, id: Number(sent.id) + i, template: { ...(sent.template as object), text: `imported ${i}` } });
    await h.control('PUT', '/state', state);
    for (let n = 2; n < 6; n++) {
      const res = await send(n);
      assert.equal(res.statusCode, 200, `send ${n} after the import: ${res.body}`);
    }
    const texts = (await h.store.db.selectFrom('talk_messages').select('template').where('account_id', '=', me.id).execute()).map((r) => JSON.parse(r.template).text);
    assert.deepEqual(texts.sort(), ['imported 1', 'imported 2', 'imported 3', 'imported 4', 'm1', 'm2', 'm3', 'm4', 'm5']);
  });
});
