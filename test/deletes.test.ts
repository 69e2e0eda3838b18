import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { forEachStore, type Harness } from './helpers/harness.js';
import { STORY_CONSENTS, png, storyApp, storyUser, upload } from './fixtures/story.js';

/**
 * A shared sandbox that runs for months keeps only what someone still can use: deleting an
 * app and its people leaves no row of them anywhere, and deleting an app leaves nothing that
 * only that app could use (docs/control-plane.md, "What grows, and what is removed").
 */

/** Tables of the migrator and of the id spaces hold no state of anyone's. */
const BOOKKEEPING = new Set(['kysely_migration', 'kysely_migration_lock', 'id_spaces']);

/** Rows of every table of the store. */
async function rowCounts(h: Harness): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of await h.store.db.introspection.getTables()) {
    if (BOOKKEEPING.has(table.name)) continue;
    const { rows } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${sql.table(table.name)}`.execute(h.store.db);
    out[table.name] = Number(rows[0].n);
  }
  return out;
}

const TEXT = JSON.stringify({ object_type: 'text', text: 'x', link: { web_url: 'http://localhost:3000' } });

forEachStore('Deleting an app and its people leaves nothing of them', (h) => {
  it('a CI run that deletes its own app and people leaves every table as it found it', async () => {
    const before = await rowCounts(h);
    const app = await h.createApp({ consent_items: { ...STORY_CONSENTS, friends: 'optional', talk_message: 'optional' } });
    const a = await h.createAccount({ nickname: 'A' });
    const b = await h.createAccount({ nickname: 'B' });
    await h.befriend(a, b);
    await h.befriend(b, a);
    const ta = (await h.token(app, a)).access_token;
    await h.token(app, b);
    const friends = await h.kapi('GET', '/v1/api/talk/friends', ta);
    assert.equal(friends.statusCode, 200, friends.body);
    const uuid = friends.json().elements[0].uuid;
    const sent = await h.kapi('POST', '/v1/api/talk/friends/message/default/send', ta, { receiver_uuids: JSON.stringify([uuid]), template_object: TEXT });
    assert.equal(sent.statusCode, 200, sent.body);
    assert.equal((await h.kapi('POST', '/v2/api/talk/memo/default/send', ta, { template_object: TEXT })).statusCode, 200);
    assert.equal((await upload(h, ta, [{ name: 'file', filename: 'a.png', data: await png(8, 8) }])).statusCode, 200);
    await h.control('POST', '/group_chats', { title: 'g', member_account_ids: [a.id, b.id] });

    await h.control('DELETE', `/apps/${app.id}`);
    await h.control('DELETE', `/accounts/${a.id}`);
    await h.control('DELETE', `/accounts/${b.id}`);
    assert.deepEqual(await rowCounts(h), before);
  });

  it('a group chat goes with its last member; one with a member left stays, with that member', async () => {
    const [a, b, c] = [await h.createAccount(), await h.createAccount(), await h.createAccount()];
    const pair = await h.control('POST', '/group_chats', { title: 'pair', member_account_ids: [a.id, b.id] });
    const trio = await h.control('POST', '/group_chats', { title: 'trio', member_account_ids: [a.id, b.id, c.id] });
    await h.control('DELETE', `/accounts/${a.id}`);
    await h.control('DELETE', `/accounts/${b.id}`);
    const left = await h.control('GET', '/group_chats');
    assert.deepEqual(
      left.map((chat: { id: number; member_account_ids: number[] }) => [chat.id, chat.member_account_ids]),
      [[trio.id, [c.id]]],
    );
    const gone = await h.inject({ method: 'GET', url: `/_kapibara/v1/group_chats/${pair.id}`, headers: { 'x-kapibara-control': '1' } });
    assert.equal(gone.statusCode, 404);
  });

  it("deleting an app deletes the person's uploads it never posted; posted photos and other apps' uploads stay", async () => {
    const app = await storyApp(h);
    const other = await storyApp(h);
    const { person, token } = await storyUser(h, app);
    const otherToken = (await h.token(other, person)).access_token;
    const [posted, unposted] = (await upload(h, token, [
      { name: 'file', filename: 'a.png', data: await png(8, 8) },
      { name: 'file', filename: 'b.png', data: await png(9, 9) },
    ])).json();
    const [otherApps] = (await upload(h, otherToken, [{ name: 'file', filename: 'c.png', data: await png(10, 10) }])).json();
    assert.equal((await h.kapi('POST', '/v1/api/story/post/photo', token, { image_url_list: [posted] })).statusCode, 200);

    await h.control('DELETE', `/apps/${app.id}`);
    const served = async (path: string) => (await h.inject({ method: 'GET', url: path.split('?')[0] })).statusCode;
    assert.equal(await served(posted), 200);
    assert.equal(await served(unposted), 404);
    assert.equal(await served(otherApps), 200);
    const keys = (await h.store.db.selectFrom('story_images').select(['key', 'app_id']).execute()).map((r) => [r.key, r.app_id === null ? null : Number(r.app_id)]);
    const keyOf = (path: string) => path.split('/').slice(2, 5).join('/');
    const byKey = (x: unknown[], y: unknown[]) => (String(x[0]) < String(y[0]) ? -1 : 1);
    assert.deepEqual(keys.sort(byKey), [[keyOf(posted), null], [keyOf(otherApps), other.id]].sort(byKey));
    const files = await h.store.db.selectFrom('story_image_files').select('image_key').where('image_key', '=', keyOf(unposted)).execute();
    assert.deepEqual(files, []);
  });
});
