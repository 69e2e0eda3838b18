import { after, before, describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { buildApp } from '../src/app.js';
import { openStore } from '../src/kapibara.js';
import { forEachStore, Harness } from './helpers/harness.js';
import { freshPgDatabase } from './helpers/stores.js';

/**
 * Lists Kapibara orders itself come out in the same order on both stores, whatever the
 * database's collation and however rows were updated: tests that snapshot the control
 * plane's friends list or a state export get the same file on SQLite and PostgreSQL.
 * (PostgreSQL sorted nicknames by the database's locale, and returned a table's rows in
 * the order of their last update.)
 */

const NICKNAMES = ['banana', 'Zed', '_x', 'Apple', 'apple', 'Banana', 'Same', 'Same'];
/** By code point (uppercase before lowercase, `_` between), equal names by id. */
const EXPECTED = ['Apple', 'Banana', 'Same', 'Same', 'Zed', '_x', 'apple', 'banana'];

async function friendsInOrder(h: Harness) {
  const me = await h.createAccount({ nickname: 'me' });
  const friends = [];
  for (const nickname of NICKNAMES) {
    const friend = await h.createAccount({ nickname });
    friends.push(friend);
    await h.befriend(me, friend);
  }
  // Updated rows move to the end of a PostgreSQL table: the first "Same" is updated last.
  await h.control('PATCH', `/accounts/${friends[6].id}`, { name: 'updated' });
  const listed: { account_id: number; nickname: string }[] = await h.control('GET', `/accounts/${me.id}/friends`);
  assert.deepEqual(listed.map((f) => f.nickname), EXPECTED);
  const same = listed.filter((f) => f.nickname === 'Same').map((f) => f.account_id);
  assert.deepEqual(same, [...same].sort((a, b) => a - b), 'equal nicknames by id');
}

forEachStore('the order of control-plane lists and state exports', (h) => {
  it('friends are listed by nickname code point by code point, equal names by id', async () => {
    await friendsInOrder(h);
  });

  it("a state export lists every table's rows by primary key, updated rows included", async () => {
    const people = [];
    for (let i = 0; i < 5; i++) people.push(await h.createAccount({ nickname: `p${i}` }));
    await h.befriend(people[1], people[0]);
    await h.befriend(people[0], people[1]);
    await h.control('PATCH', `/accounts/${people[0].id}`, { nickname: 'changed' });
    // Made again after a later one: stored after it.
    await h.control('DELETE', '/friendships', { account_id: people[1].id, friend_account_id: people[0].id });
    await h.befriend(people[1], people[0]);
    const state = await h.control('GET', '/state');
    const ids = (state.accounts as { id: number }[]).map((a) => a.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    const pairs = (state.friendships as { account_id: number; friend_account_id: number }[]).map((f) => [f.account_id, f.friend_account_id]);
    assert.deepEqual(pairs, [...pairs].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
  });
});

describe('the friends list on a PostgreSQL database whose default collation is ICU en-US', () => {
  const h = new Harness('postgres');
  let drop: () => Promise<void>;
  before(async () => {
    const database = await freshPgDatabase({ icuLocale: 'en-US' });
    drop = database.drop;
    h.store = await openStore({ databaseUrl: database.url });
    h.app = await buildApp({ store: h.store, clock: h.clock });
  });
  after(async () => {
    await h.stop();
    await drop();
  });

  it('is in the same order as on SQLite', async () => {
    await friendsInOrder(h);
  });
});
