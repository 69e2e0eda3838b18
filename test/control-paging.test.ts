import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { forEachStore, type Harness, type TestAccount, type TestApp } from './helpers/harness.js';
import { assertIndexed, plansOf } from './helpers/query-plans.js';
import { Recorder } from './helpers/recorder.js';
import { listAccounts, searchAccounts } from '../src/store/accounts.js';
import { listAppsPage } from '../src/store/apps.js';
import { listFriends } from '../src/store/friendships.js';
import { activityId, listStories } from '../src/products/story/store.js';
import { channelPosition, listChannelsPage, relationsOfChannelPage } from '../src/products/channel/store.js';
import { devicesPage, tokenPosition, tokensPage } from '../src/products/push/store.js';
import { channelSection } from '../src/products/channel/console.js';
import type { Platform } from '../src/core/platform.js';
import type { Account } from '../src/store/accounts.js';
import { MESSAGE_LOG, countMessages, deliver, groupChatMessages, groupMessagePosition, listChats, listGroupChatsPage, listTemplates, listMessages, messagePosition } from '../src/products/message/store.js';

/**
 * Lists of the control plane and pages of the console cost what a page holds, never what the
 * store holds (DESIGN.md, "Fast"): people and apps are paged by id, chats and messages by a
 * `before` cursor, counts stop at 1000. Shown by paging (every item once, inserts between
 * pages neither repeat nor hide one) and by the query plans (index searches, no sort of the
 * table), never by timing.
 */

let clock = Date.UTC(2024, 0, 1);
/** Rows as delivered messages are stored (the log writer's columns), `n` of them for `account` in one chat. */
function messageRows(account: number, chatType: 'memo' | 'direct' | 'group', peer: number, n: number, appId: number) {
  return Array.from({ length: n }, () => ({
    account_id: account,
    chat_type: chatType,
    peer_account_id: peer,
    app_id: appId,
    sender_account_id: chatType === 'memo' ? account : peer,
    template_type: 'text',
    template_id: null,
    template: JSON.stringify({ object_type: 'text', text: 'hi' }),
    created_at: (clock += 1000),
  }));
}

async function insertMessages(h: Harness, rows: ReturnType<typeof messageRows>): Promise<void> {
  // The id is the store's (a sequence, the rowid), as the log writer leaves it out.
  for (let i = 0; i < rows.length; i += 200) await h.store.db.insertInto('talk_messages').values(rows.slice(i, i + 200) as never).execute();
}

/** Follows `next` from the first page to the last; every page's items. */
async function allPages<T>(first: string, read: (url: string) => Promise<{ items: T[]; next?: string }>, between?: () => Promise<void>): Promise<T[][]> {
  const pages: T[][] = [];
  let url: string | undefined = first;
  while (url) {
    const { items, next } = await read(url);
    pages.push(items);
    url = next;
    if (between) await between();
  }
  return pages;
}

/** A page of a list by id, and the next page its `Link` header names. */
async function byLink<T>(h: Harness, url: string): Promise<{ items: T[]; next?: string }> {
  const res = await h.inject({ method: 'GET', url });
  assert.equal(res.statusCode, 200, res.body);
  const link = res.headers.link as string | undefined;
  const next = link && /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
  if (link) assert.ok(next, `a Link header of the form <…>; rel="next": ${link}`);
  return { items: res.json(), next: next || undefined };
}

/**
 * Follows the `Link`s from `first` to the last page, deleting each page's last item (`remove`)
 * before the next page is read: the cursor's own row is gone each time. Every page's items.
 */
async function pagesDeletingEachLast<T>(h: Harness, first: string, remove: (last: T) => Promise<unknown>): Promise<T[][]> {
  const pages: T[][] = [];
  let url: string | undefined = first;
  while (url) {
    const { items, next }: { items: T[]; next?: string } = await byLink<T>(h, url);
    pages.push(items);
    if (next) await remove(items[items.length - 1]);
    url = next;
  }
  return pages;
}

forEachStore('Control-plane lists page', (h) => {
  async function people(n: number): Promise<TestAccount[]> {
    const made: TestAccount[] = [];
    for (let i = 0; i < n; i++) made.push(await h.createAccount({ nickname: `person ${i}` }));
    return made;
  }

  it('GET /accounts pages by id with limit and a Link to the next page; every person once, inserts between pages never repeat one', async () => {
    const made = await people(7);
    const before = made.map((p) => p.id).sort((a, b) => a - b);
    let added = 0;
    const pages = await allPages<TestAccount>('/_kapibara/v1/accounts?limit=3', (url) => byLink(h, url), async () => {
      // Someone new each page: with an id before every page read so far, and one after.
      if (added++ < 2) {
        await h.createAccount({ id: 100 + added, nickname: 'early' });
        await h.createAccount({ nickname: 'late' });
      }
    });
    const seen = pages.flat().map((p) => p.id);
    assert.equal(new Set(seen).size, seen.length, `no one twice: ${seen}`);
    for (const id of before) assert.ok(seen.includes(id), `person ${id} listed`);
    assert.ok(pages.slice(0, -1).every((p) => p.length === 3));
    assert.ok(!seen.includes(101) && !seen.includes(102), 'ids before the page read are not shown again');
    // Without a limit: up to 1000, all of them here, and no Link.
    const all = await byLink<TestAccount>(h, '/_kapibara/v1/accounts');
    assert.equal(all.next, undefined);
    assert.deepEqual(all.items.map((p) => p.id), [...all.items.map((p) => p.id)].sort((a, b) => a - b));
    assert.equal(all.items.length, 7 + 4);
    assert.deepEqual((await byLink<TestAccount>(h, `/_kapibara/v1/accounts?after=${all.items[9].id}`)).items.map((p) => p.id), [all.items[10].id]);
  });

  it('GET /apps pages the same way', async () => {
    const apps: TestApp[] = [];
    for (let i = 0; i < 5; i++) apps.push(await h.createApp({ name: `app ${i}` }));
    const pages = await allPages<TestApp>('/_kapibara/v1/apps?limit=2', (url) => byLink(h, url));
    assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
    assert.deepEqual(pages.flat().map((a) => a.id), apps.map((a) => a.id).sort((a, b) => a - b));
  });

  it("GET /apps/{id}/templates pages the same way: each template once, by id; a list within the limit has no Link", async () => {
    const app = await h.createApp();
    const other = await h.createApp();
    const ids = [31, 12, 57, 40, 23, 18, 99];
    for (const id of ids) await h.control('POST', `/apps/${app.id}/templates`, { id, template: { object_type: 'text', text: `t${id}`, link: { web_url: 'http://localhost:3000' } } });
    await h.control('POST', `/apps/${other.id}/templates`, { id: 50, template: { object_type: 'text', text: 'other', link: { web_url: 'http://localhost:3000' } } });
    const pages = await allPages<{ id: number }>(`/_kapibara/v1/apps/${app.id}/templates?limit=3`, (url) => byLink(h, url));
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
    assert.deepEqual(pages.flat().map((t) => t.id), [...ids].sort((a, b) => a - b));
    const whole = await byLink<{ id: number }>(h, `/_kapibara/v1/apps/${app.id}/templates`);
    assert.equal(whole.next, undefined);
    assert.deepEqual(whole.items.map((t) => t.id), [...ids].sort((a, b) => a - b));
    const exactly = await byLink<{ id: number }>(h, `/_kapibara/v1/apps/${app.id}/templates?limit=7`);
    assert.equal(exactly.next, undefined);
    const bad = await h.inject({ method: 'GET', url: `/_kapibara/v1/apps/${app.id}/templates?limit=1001` });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /limit/);
    // The key (app_id, id) serves the page (migration-templates-per-app.ts; it replaced the
    // talk_templates_app index), searched by both columns: not by id with app_id filtered row by row.
    assertIndexed(await plansOf(h.store.db, (d) => listTemplates(d, app.id, 23, 4)), /sqlite_autoindex_talk_templates_1 \(app_id=\? AND id>\?\)|talk_templates_per_app_pk on talk_templates.*\n\s*Index Cond: \(\(app_id = \S+\) AND \(id > /);
  });

  it("GET /group_chats pages newest first (created_at, then id); the Link names the last chat's time and id, so its next page goes on when that chat is deleted", async () => {
    const members = await people(3);
    // Times that go back and forth, two the same (the clock moved back, or an import with
    // ids of its own): the order is by time, then id, not by id alone.
    const seconds = [5, 1, 3, 3, 9, 0, 7];
    const made: { id: number; at: number }[] = [];
    for (const [i, s] of seconds.entries()) {
      const id = 7000 + (i * 37) % 11;
      const ids = i % 2 === 0 ? members.map((m) => m.id) : [members[0].id, members[1].id];
      await h.store.db.insertInto('talk_group_chats').values({ id, title: `g${i}`, created_at: Date.UTC(2030, 0, 1, 0, 0, s) }).execute();
      await h.store.db.insertInto('talk_group_chat_members').values(ids.map((account_id, position) => ({ chat_id: id, account_id, position }))).execute();
      made.push({ id, at: s });
    }
    const newest = [...made].sort((a, b) => b.at - a.at || b.id - a.id).map((c) => c.id);
    const whole = await byLink<{ id: number }>(h, '/_kapibara/v1/group_chats');
    assert.equal(whole.next, undefined, 'a short list has no Link');
    assert.deepEqual(whole.items.map((c) => c.id), newest);
    const pages = await allPages<{ id: number }>('/_kapibara/v1/group_chats?limit=3', (url) => byLink(h, url));
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
    assert.deepEqual(pages.flat().map((c) => c.id), newest);
    assert.deepEqual(pages.flat(), whole.items, 'pages hold what the whole list holds');
    // A person's group chats page the same way, the filter kept in the Link.
    const third = made.filter((_, i) => i % 2 === 0).sort((a, b) => b.at - a.at || b.id - a.id).map((c) => c.id);
    const first = await byLink<{ id: number }>(h, `/_kapibara/v1/group_chats?account_id=${members[2].id}&limit=2`);
    const timeOf = (id: number) => Date.UTC(2030, 0, 1, 0, 0, made.find((c) => c.id === id)!.at);
    assert.equal(first.next, `/_kapibara/v1/group_chats?account_id=${members[2].id}&after=${third[1]}&after_time=${timeOf(third[1])}&limit=2`);
    const theirs = await allPages<{ id: number }>(`/_kapibara/v1/group_chats?account_id=${members[2].id}&limit=2`, (url) => byLink(h, url));
    assert.deepEqual(theirs.flat().map((c) => c.id), third);
    assert.equal((await byLink(h, `/_kapibara/v1/group_chats?account_id=${members[2].id}`)).next, undefined);
    // An earlier version's cursor (the id alone) still names the chat's place while it exists.
    assert.deepEqual((await byLink<{ id: number }>(h, `/_kapibara/v1/group_chats?after=${newest[2]}&limit=3`)).items.map((c) => c.id), newest.slice(3, 6));
    // The chat each page ended on, deleted before the next page is read: every other chat once,
    // in order (a person's list too, its filter kept).
    const remove = (last: { id: number }) => h.control('DELETE', `/group_chats/${last.id}`);
    const theirsDeleting = await pagesDeletingEachLast<{ id: number }>(h, `/_kapibara/v1/group_chats?account_id=${members[2].id}&limit=1`, remove);
    assert.deepEqual(theirsDeleting.flat().map((c) => c.id), third);
    const left = newest.filter((id) => !third.slice(0, -1).includes(id));
    const pagesDeleting = await pagesDeletingEachLast<{ id: number }>(h, '/_kapibara/v1/group_chats?limit=2', remove);
    assert.deepEqual(pagesDeleting.map((p) => p.length), [2, 2]);
    assert.deepEqual(pagesDeleting.flat().map((c) => c.id), left, 'none skipped, none repeated');
    // The id alone of a chat deleted since has no place left to name: 400 naming it.
    const gone = await h.inject({ method: 'GET', url: `/_kapibara/v1/group_chats?after=${third[0]}&limit=3` });
    assert.deepEqual([gone.statusCode, gone.json()], [400, { error: `after: group chat ${third[0]} not found` }]);
    const timeAlone = await h.inject({ method: 'GET', url: `/_kapibara/v1/group_chats?after_time=${timeOf(newest[2])}` });
    assert.equal(timeAlone.statusCode, 400, timeAlone.body);
    assert.match(timeAlone.json().error, /^after: /);
    const bad = await h.inject({ method: 'GET', url: '/_kapibara/v1/group_chats?limit=1001' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /limit/);
    // Every chat: read from the index by time where the page starts. A person's: their memberships by index.
    const at = { createdAt: timeOf(newest[1]), id: newest[1] };
    assertIndexed(await plansOf(h.store.db, (d) => listGroupChatsPage(d, undefined, at, 4)), /talk_group_chats_created/);
    assertIndexed(await plansOf(h.store.db, (d) => listGroupChatsPage(d, undefined, undefined, 4)), /talk_group_chats_created/);
    assertIndexed(await plansOf(h.store.db, (d) => listGroupChatsPage(d, members[2].id, at, 4), { sortsFound: true }), /talk_group_chat_members_account/, { sortsFound: true });
  });

  it('GET /accounts/{id}/stories pages newest first (seq, then id) with after = the last story id, which goes on after that story is deleted', async () => {
    const [me, other] = await people(2);
    const written = await h.control('POST', `/accounts/${me.id}/stories`, { content: 'first' });
    await h.control('POST', `/accounts/${other.id}/stories`, { content: 'not mine' });
    const handle = written.id.split('.')[0];
    // Six more, two pairs sharing a seq (one millisecond, the same tiebreak): the id orders them.
    const seqs = [0, 1, 1, 2, 3, 3].map((k) => 4096 * (1000 + k));
    for (const [i, seq] of seqs.entries()) {
      const id = `${handle}.${activityId(seq).slice(0, 9)}${['Zz', 'Aa', 'Bb', '00', 'Cc', 'zz'][i]}`;
      await h.store.db.insertInto('stories').values({ id, account_id: me.id, app_id: null, seq, media_type: 'NOTE', content: `s${i}`, permission: 'PUBLIC', enable_share: 0, android_exec_param: null, ios_exec_param: null, android_market_param: null, ios_market_param: null, link_info: null, created_at: Date.UTC(2024, 0, 1) }).execute();
    }
    const stored = await h.store.db.selectFrom('stories').select(['id', 'seq']).where('account_id', '=', me.id).execute();
    const newest = stored.sort((a, b) => Number(b.seq) - Number(a.seq) || (a.id < b.id ? 1 : -1)).map((r) => r.id);
    assert.equal(newest.length, 7);
    const url = `/_kapibara/v1/accounts/${me.id}/stories`;
    const whole = await byLink<{ id: string }>(h, url);
    assert.equal(whole.next, undefined, 'a short list has no Link');
    assert.deepEqual(whole.items.map((s) => s.id), newest);
    const pages = await allPages<{ id: string }>(`${url}?limit=3`, (u) => byLink(h, u));
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
    assert.deepEqual(pages.flat(), whole.items, 'each story once, as the whole list has it');
    // The story a page ended on, deleted before the next page: its place is in its id.
    const first = await byLink<{ id: string }>(h, `${url}?limit=3`);
    assert.equal(first.next, `${url}?after=${encodeURIComponent(newest[2])}&limit=3`);
    await h.store.db.deleteFrom('stories').where('id', '=', newest[2]).execute();
    assert.deepEqual((await byLink<{ id: string }>(h, first.next!)).items.map((s) => s.id), newest.slice(3, 6));
    for (const [q, named] of [['limit=1001', /limit/], ['limit=0', /limit/], ['after=nope', /after/]] as const) {
      const bad = await h.inject({ method: 'GET', url: `${url}?${q}` });
      assert.equal(bad.statusCode, 400, `${q}: ${bad.body}`);
      assert.match(bad.json().error, named);
    }
    assertIndexed(await plansOf(h.store.db, (d) => listStories(d, me.id, 4, { seq: seqs[3], id: newest[2] })), /stories_account_seq/);
  });

  it('GET /accounts/{id}/stories reads comments, moods and the wire form once per page, not once per story; the answer is as each story alone has it', async () => {
    const [me, ryan, apeach] = await people(3);
    await h.control('PUT', `/accounts/${apeach.id}/story-profile`, { nickname: 'Peach on Story' });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await h.control('POST', `/accounts/${me.id}/stories`, { content: `story ${i}` })).id);
    // Comments and moods on every other story, some sharing a time (ordered by id, by account).
    const comments: Record<string, { id: number; account_id: number; text: string }[]> = {};
    for (const [i, id] of ids.entries()) {
      if (i % 2 === 1) continue;
      comments[id] = [];
      for (const [j, who] of [ryan, apeach, ryan].entries()) {
        const c = await h.control('POST', `/stories/${id}/comments`, { account_id: who.id, text: `c${i}.${j}` });
        comments[id].push({ id: c.id, account_id: who.id, text: c.text });
      }
      await h.control('PUT', `/stories/${id}/likes/${apeach.id}`, { emotion: 'LIKE' });
      await h.control('PUT', `/stories/${id}/likes/${ryan.id}`, { emotion: 'SAD' });
    }
    await h.store.db.updateTable('story_comments').set({ created_at: Date.UTC(2024, 0, 1) }).execute();
    await h.store.db.updateTable('story_likes').set({ created_at: Date.UTC(2024, 0, 1) }).execute();
    const url = `/_kapibara/v1/accounts/${me.id}/stories`;
    /** The statements the platform runs while answering `path`, and the answer. */
    const counted = async (path: string) => {
      const platform = h.app.platform;
      const db = platform.db;
      const recorder = new Recorder();
      platform.db = db.withPlugin(recorder);
      try {
        const res = await h.inject({ method: 'GET', url: path });
        assert.equal(res.statusCode, 200, res.body);
        return { body: res.body, statements: recorder.nodes.length };
      } finally {
        platform.db = db;
      }
    };
    const whole = await counted(url);
    const alone = await Promise.all([...ids].reverse().map(async (id) => (await counted(`/_kapibara/v1/stories/${encodeURIComponent(id)}`)).body));
    assert.equal(whole.body, `[${alone.join(',')}]`, 'byte for byte what each story answers alone');
    const list = JSON.parse(whole.body) as { id: string; comment_count: number; like_count: number; comments: { id: number; account_id: number; text: string }[]; likes: { account_id: number; emotion: string }[] }[];
    for (const story of list) {
      const theirs = comments[story.id] ?? [];
      assert.deepEqual(story.comments.map((c) => ({ id: c.id, account_id: c.account_id, text: c.text })), [...theirs].sort((a, b) => a.id - b.id));
      assert.equal(story.comment_count, theirs.length);
      const moods = theirs.length ? [[Math.min(ryan.id, apeach.id), ryan.id < apeach.id ? 'SAD' : 'LIKE'], [Math.max(ryan.id, apeach.id), ryan.id < apeach.id ? 'LIKE' : 'SAD']] : [];
      assert.deepEqual(story.likes.map((l) => [l.account_id, l.emotion]), moods);
      assert.equal(story.like_count, moods.length);
    }
    // A page of 2 and a page of 6 cost the same statements: one per kind, whatever the page holds.
    const two = await counted(`${url}?limit=2`);
    assert.ok(two.statements > 0, 'the statements were recorded');
    assert.equal(whole.statements, two.statements, `6 stories: ${whole.statements} statements, 2 stories: ${two.statements}`);
    assert.ok(whole.statements <= 8, `${whole.statements} statements`);
  });

  it("GET /channels pages oldest first (created_at, then id); the Link names the last channel's time and id, so its next page goes on when that channel is deleted", async () => {
    const app = await h.createApp();
    // Times out of id order (the clock moved back), two the same: the order is by time, then id.
    const seconds = [5, 1, 3, 9, 0, 7, 2];
    const made: number[] = [];
    for (const [i, s] of seconds.entries()) {
      await h.control('POST', '/clock', { now: new Date(Date.UTC(2030, 0, 1, 0, 0, s)).toISOString() });
      made.push((await h.control('POST', '/channels', { app_id: app.id, name: `c${i}`, search_id: `@c${i}` })).id);
    }
    await h.store.db.updateTable('channels').set({ created_at: Date.UTC(2030, 0, 1, 0, 0, 3) }).where('id', '=', made[6]).execute();
    const stored = await h.store.db.selectFrom('channels').select(['id', 'created_at']).execute();
    const oldest = stored.sort((a, b) => Number(a.created_at) - Number(b.created_at) || Number(a.id) - Number(b.id)).map((c) => Number(c.id));
    const whole = await byLink<{ id: number }>(h, '/_kapibara/v1/channels');
    assert.equal(whole.next, undefined, 'a short list has no Link');
    assert.deepEqual(whole.items.map((c) => c.id), oldest);
    const pages = await allPages<{ id: number }>('/_kapibara/v1/channels?limit=3', (url) => byLink(h, url));
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
    assert.deepEqual(pages.flat(), whole.items, 'each channel once, as the whole list has it');
    const timeOf = new Map(stored.map((c) => [Number(c.id), Number(c.created_at)]));
    const first = await byLink<{ id: number }>(h, '/_kapibara/v1/channels?limit=3');
    assert.equal(first.next, `/_kapibara/v1/channels?after=${oldest[2]}&after_time=${timeOf.get(oldest[2])}&limit=3`);
    // An earlier version's cursor (the id alone) still names the channel's place while it exists.
    assert.deepEqual((await byLink<{ id: number }>(h, `/_kapibara/v1/channels?after=${oldest[2]}&limit=3`)).items, whole.items.slice(3, 6));
    // The channel each page ended on, deleted before the next page is read: every other channel once, in order.
    const pagesDeleting = await pagesDeletingEachLast<{ id: number; public_id: string }>(h, '/_kapibara/v1/channels?limit=2', (last) => h.control('DELETE', `/channels/${last.public_id}`));
    assert.deepEqual(pagesDeleting.map((p) => p.length), [2, 2, 2, 1]);
    assert.deepEqual(pagesDeleting.flat(), whole.items, 'none skipped, none repeated');
    // The id alone of a channel deleted since has no place left to name: a 400 naming it; a time without an id names no channel.
    const gone = whole.items[1] as { id: number };
    const refused = await h.inject({ method: 'GET', url: `/_kapibara/v1/channels?after=${gone.id}&limit=3` });
    assert.deepEqual([refused.statusCode, refused.json()], [400, { error: `after: channel ${gone.id} not found` }]);
    const timeAlone = await h.inject({ method: 'GET', url: `/_kapibara/v1/channels?after_time=${timeOf.get(oldest[2])}` });
    assert.equal(timeAlone.statusCode, 400, timeAlone.body);
    assert.match(timeAlone.json().error, /^after: /);
    const bad = await h.inject({ method: 'GET', url: '/_kapibara/v1/channels?limit=1001' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /limit/);
    const at = (await channelPosition(h.store.db, oldest[2]))!;
    assertIndexed(await plansOf(h.store.db, (d) => listChannelsPage(d, at, 4)), /channels_created/);
    assertIndexed(await plansOf(h.store.db, (d) => listChannelsPage(d, undefined, 4)), /channels_created/);
  });

  it("lists paged by id (apps, people, an app's templates, a channel's relations) go on when the item a page ended on is deleted: an id is its own place", async () => {
    const apps: TestApp[] = [];
    for (let i = 0; i < 5; i++) apps.push(await h.createApp({ name: `app ${i}` }));
    const appsBefore = (await byLink<{ id: number }>(h, '/_kapibara/v1/apps')).items;
    const appPages = await pagesDeletingEachLast<{ id: number }>(h, '/_kapibara/v1/apps?limit=2', (last) => h.control('DELETE', `/apps/${last.id}`));
    assert.deepEqual(appPages.flat(), appsBefore, 'apps: none skipped, none repeated');
    await people(5);
    const peopleBefore = (await byLink<{ id: number }>(h, '/_kapibara/v1/accounts')).items;
    const peoplePages = await pagesDeletingEachLast<{ id: number }>(h, '/_kapibara/v1/accounts?limit=2', (last) => h.control('DELETE', `/accounts/${last.id}`));
    assert.deepEqual(peoplePages.flat(), peopleBefore, 'people: none skipped, none repeated');
    const app = await h.createApp();
    for (const id of [31, 12, 57, 40, 23]) await h.control('POST', `/apps/${app.id}/templates`, { id, template: { object_type: 'text', text: `t${id}`, link: { web_url: 'http://localhost:3000' } } });
    const templatePages = await pagesDeletingEachLast<{ id: number }>(h, `/_kapibara/v1/apps/${app.id}/templates?limit=2`, (last) => h.control('DELETE', `/apps/${app.id}/templates/${last.id}`));
    assert.deepEqual(templatePages.flat().map((t) => t.id), [12, 23, 31, 40, 57], 'templates: none skipped, none repeated');
    const channel = await h.control('POST', '/channels', { app_id: app.id, name: 'c', search_id: '@c' });
    const fans = await people(5);
    for (const p of fans) await h.control('PUT', `/channels/${channel.public_id}/relations/${p.id}`, { relation: 'ADDED' });
    const relationPages = await pagesDeletingEachLast<{ account_id: number }>(h, `/_kapibara/v1/channels/${channel.public_id}/relations?limit=2`, (last) =>
      h.control('PUT', `/channels/${channel.public_id}/relations/${last.account_id}`, { relation: 'NONE' }),
    );
    assert.deepEqual(relationPages.flat().map((r) => r.account_id), fans.map((p) => p.id).sort((a, b) => a - b), 'relations: none skipped, none repeated');
  });

  it('GET /channels/{public_id}/relations pages by account id with after = the last account id', async () => {
    const app = await h.createApp();
    const channel = await h.control('POST', '/channels', { app_id: app.id, name: 'c', search_id: '@c' });
    const other = await h.control('POST', '/channels', { app_id: app.id, name: 'd', search_id: '@d' });
    const made = await people(7);
    // Set in an order of their own, and one changed again later.
    for (const i of [3, 0, 6, 1, 5, 2, 4]) await h.control('PUT', `/channels/${channel.public_id}/relations/${made[i].id}`, { relation: i % 3 ? 'ADDED' : 'BLOCKED' });
    await h.control('PUT', `/channels/${channel.public_id}/relations/${made[5].id}`, { relation: 'BLOCKED' });
    await h.control('PUT', `/channels/${other.public_id}/relations/${made[0].id}`, { relation: 'ADDED' });
    const ids = made.map((p) => p.id).sort((a, b) => a - b);
    const url = `/_kapibara/v1/channels/${channel.public_id}/relations`;
    const whole = await byLink<{ account_id: number }>(h, url);
    assert.equal(whole.next, undefined, 'a short list has no Link');
    assert.deepEqual(whole.items.map((r) => r.account_id), ids);
    const first = await byLink<{ account_id: number }>(h, `${url}?limit=3`);
    assert.equal(first.next, `${url}?after=${ids[2]}&limit=3`);
    // A relation changed between pages keeps its place: every person once.
    let changed = false;
    const pages = await allPages<{ account_id: number }>(`${url}?limit=3`, (u) => byLink(h, u), async () => {
      if (!changed) await h.control('PUT', `/channels/${channel.public_id}/relations/${ids[5]}`, { relation: 'ADDED' });
      changed = true;
    });
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
    assert.deepEqual(pages.flat().map((r) => r.account_id), ids);
    const bad = await h.inject({ method: 'GET', url: `${url}?limit=1001` });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /limit/);
    assertIndexed(await plansOf(h.store.db, (d) => relationsOfChannelPage(d, channel.id, ids[2], 4)), /sqlite_autoindex_channel_relations_1|channel_relations_pk/);
  });

  it("GET /apps/{id}/push/tokens pages by uuid, then registration; the Link names the last device's uuid, time and id, so its next page goes on when that device is deregistered", async () => {
    const app = await h.createApp();
    const other = await h.createApp();
    const register = async (a: TestApp, uuid: string, device: string) => {
      const res = await h.kapiKey('POST', '/v2/push/register', a.admin_key, { uuid, device_id: device, push_type: 'fcm', push_token: `tok-${device.replace(/\W/g, '_')}` });
      assert.equal(res.statusCode, 200, res.body);
      await h.advanceClock(1);
    };
    // A user's devices are listed in the order they registered, not by name.
    for (const [uuid, device] of [['2', 'zeta'], ['1', 'b/x y'], ['2', 'alpha'], ['1', 'a&b'], ['3', 'solo'], ['2', 'mid'], ['1', 'c']]) await register(app, uuid, device);
    await register(other, '1', 'elsewhere');
    // Two of u2's registered in the same millisecond: by device id.
    const zeta = await h.store.db.selectFrom('push_tokens').select('created_at').where('app_id', '=', app.id).where('device_id', '=', 'zeta').executeTakeFirstOrThrow();
    await h.store.db.updateTable('push_tokens').set({ created_at: zeta.created_at }).where('app_id', '=', app.id).where('device_id', '=', 'mid').execute();
    const order = ['b/x y', 'a&b', 'c', 'mid', 'zeta', 'alpha', 'solo'];
    const url = `/_kapibara/v1/apps/${app.id}/push/tokens`;
    type Device = { uuid: string; device_id: string };
    const whole = await byLink<Device>(h, url);
    assert.equal(whole.next, undefined, 'a short list has no Link');
    assert.deepEqual(whole.items.map((d) => d.device_id), order);
    const times = new Map((await h.store.db.selectFrom('push_tokens').select(['device_id', 'created_at']).where('app_id', '=', app.id).execute()).map((t) => [t.device_id, Number(t.created_at)]));
    const first = await byLink<Device>(h, `${url}?limit=3`);
    assert.equal(first.next, `${url}?after_uuid=1&after_device_id=c&after_time=${times.get('c')}&limit=3`);
    const pages = await allPages<Device>(`${url}?limit=3`, (u) => byLink(h, u));
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
    assert.deepEqual(pages.flat(), whole.items, 'each device once, as the whole list has it');
    assert.deepEqual((await byLink<Device>(h, `${url}?after_uuid=1&after_device_id=${encodeURIComponent('b/x y')}&limit=2`)).items.map((d) => d.device_id), ['a&b', 'c']);
    // Pages that end on the ids a URL must encode ('b/x y', then 'a&b'): the Link carries them
    // encoded, and followed as given it names the page after them.
    const ids = (page: { items: Device[] }) => page.items.map((d) => d.device_id);
    const one = await byLink<Device>(h, `${url}?limit=1`);
    assert.deepEqual(ids(one), ['b/x y']);
    assert.equal(one.next, `${url}?after_uuid=1&after_device_id=b%2Fx+y&after_time=${times.get('b/x y')}&limit=1`);
    const afterSlash = await byLink<Device>(h, one.next!);
    assert.deepEqual(ids(afterSlash), ['a&b']);
    assert.equal(afterSlash.next, `${url}?after_uuid=1&after_device_id=a%26b&after_time=${times.get('a&b')}&limit=1`);
    assert.deepEqual(ids(await byLink<Device>(h, afterSlash.next!)), ['c']);
    const two = await byLink<Device>(h, `${url}?limit=2`);
    assert.deepEqual(ids(two), ['b/x y', 'a&b']);
    assert.deepEqual(ids(await byLink<Device>(h, two.next!)), ['c', 'mid']);
    for (const limit of [1, 2]) assert.deepEqual((await allPages<Device>(`${url}?limit=${limit}`, (u) => byLink(h, u))).flat(), whole.items, `pages of ${limit}`);
    // The device each page ended on, deregistered before the next page is read: every other device once, in order.
    const pagesDeleting = await pagesDeletingEachLast<Device>(h, `${url}?limit=2`, (last) => h.store.db.deleteFrom('push_tokens').where('app_id', '=', app.id).where('device_id', '=', last.device_id).execute());
    assert.deepEqual(pagesDeleting.map((p) => p.length), [2, 2, 2, 1]);
    assert.deepEqual(pagesDeleting.flat(), whole.items, 'none skipped, none repeated');
    // Without its time (an earlier version's Link), a device deregistered since has no place left to name: 400 naming it.
    const gone = await h.inject({ method: 'GET', url: `${url}?after_uuid=1&after_device_id=a%26b&limit=3` });
    assert.deepEqual([gone.statusCode, gone.json()], [400, { error: `after_device_id: app ${app.id} has no device a&b of uuid 1` }]);
    for (const [q, named] of [['limit=1001', /limit/], ['after_uuid=1', /after_device_id/], ['after_device_id=c', /after_uuid/], [`after_time=${times.get('c')}`, /after_uuid/], [`after_uuid=1&after_time=${times.get('c')}`, /after_device_id/]] as const) {
      const bad = await h.inject({ method: 'GET', url: `${url}?${q}` });
      assert.equal(bad.statusCode, 400, `${q}: ${bad.body}`);
      assert.match(bad.json().error, named);
    }
    const at = { uuid: '1', createdAt: times.get('a&b')!, deviceId: 'a&b' };
    assertIndexed(await plansOf(h.store.db, (d) => tokensPage(d, app.id, at, 4)), /push_tokens_listed/);
    assertIndexed(await plansOf(h.store.db, (d) => tokensPage(d, app.id, undefined, 4)), /push_tokens_listed/);
  });

  it('a limit or cursor out of range is a 400 {error} naming it', async () => {
    for (const url of ['/accounts?limit=0', '/accounts?limit=1001', '/apps?after=-1', '/accounts?after=x']) {
      const res = await h.inject({ method: 'GET', url: `/_kapibara/v1${url}` });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.match(res.json().error, /limit|after/);
    }
    const person = await h.createAccount();
    const res = await h.inject({ method: 'GET', url: `/_kapibara/v1/accounts/${person.id}/messages?before=12345` });
    assert.equal(res.statusCode, 400, res.body);
    assert.deepEqual(res.json(), { error: `before: account ${person.id} has no message 12345` });
  });

  it("a person's messages page by `before`: each once, newest first; messages arriving meanwhile move nothing", async () => {
    const app = await h.createApp();
    const [me, ryan, apeach] = await people(3);
    await insertMessages(h, [...messageRows(me.id, 'memo', me.id, 9, app.id), ...messageRows(me.id, 'direct', ryan.id, 8, app.id), ...messageRows(me.id, 'direct', apeach.id, 6, app.id)]);
    const stored = (await h.store.db.selectFrom('talk_messages').select('id').where('account_id', '=', me.id).orderBy('created_at', 'desc').orderBy('id', 'desc').execute()).map((r) => Number(r.id));
    let arrived = 0;
    const read = async (url: string) => {
      const body = await h.control('GET', url);
      assert.equal(body.total_count, 23 + arrived);
      return { items: body.messages.map((m: { id: number }) => m.id) as number[], next: body.next === undefined ? undefined : `/accounts/${me.id}/messages?limit=5&before=${body.next}` };
    };
    const pages = await allPages(`/accounts/${me.id}/messages?limit=5`, read, async () => {
      await insertMessages(h, messageRows(me.id, 'direct', ryan.id, 1, app.id));
      arrived++;
    });
    assert.deepEqual(pages.flat(), stored);
    assert.deepEqual(pages.map((p) => p.length), [5, 5, 5, 5, 3]);
    // One chat, the same way.
    const chatPages = await allPages(`/accounts/${me.id}/chats/memo/messages?limit=4`, async (url) => {
      const body = await h.control('GET', url);
      return { items: body.messages.map((m: { id: number }) => m.id) as number[], next: body.next === undefined ? undefined : `/accounts/${me.id}/chats/memo/messages?limit=4&before=${body.next}` };
    });
    assert.deepEqual(chatPages.flat().length, 9);
    assert.equal(new Set(chatPages.flat()).size, 9);
  });

  it("a person's messages across more chats than a page, their times interleaved and tied, page each once, newest first", async () => {
    const app = await h.createApp();
    const [me, ...others] = await people(9);
    // Rounds of one message in every chat (a later round newer than an earlier), some chats
    // sitting rounds out, and one round whose messages all share a time.
    const rows: ReturnType<typeof messageRows> = [];
    for (let round = 0; round < 4; round++) {
      for (const [i, other] of others.entries()) if ((i + round) % 3 !== 0) rows.push(...messageRows(me.id, 'direct', other.id, 1, app.id));
      if (round === 2) for (const row of rows.slice(-5)) row.created_at = rows[rows.length - 1].created_at;
    }
    await insertMessages(h, rows);
    const stored = (await h.store.db.selectFrom('talk_messages').select('id').where('account_id', '=', me.id).orderBy('created_at', 'desc').orderBy('id', 'desc').execute()).map((r) => Number(r.id));
    for (const limit of [1, 2, 3, 7]) {
      const pages = await allPages(`/accounts/${me.id}/messages?limit=${limit}`, async (url) => {
        const body = await h.control('GET', url);
        return { items: body.messages.map((m: { id: number }) => m.id) as number[], next: body.next === undefined ? undefined : `/accounts/${me.id}/messages?limit=${limit}&before=${body.next}` };
      });
      assert.deepEqual(pages.flat(), stored, `limit ${limit}`);
    }
  });

  it('counts stop at 1000: total_count and message_count say 1000 and *_capped', async () => {
    const app = await h.createApp();
    const [me, ryan] = await people(2);
    await insertMessages(h, [...messageRows(me.id, 'memo', me.id, 1001, app.id), ...messageRows(me.id, 'direct', ryan.id, 2, app.id)]);
    const all = await h.control('GET', `/accounts/${me.id}/messages?limit=1`);
    assert.equal(all.total_count, 1000);
    assert.equal(all.total_count_capped, true);
    const memo = await h.control('GET', `/accounts/${me.id}/chats/memo/messages?limit=1`);
    assert.deepEqual([memo.total_count, memo.total_count_capped], [1000, true]);
    const direct = await h.control('GET', `/accounts/${me.id}/chats/${ryan.id}/messages`);
    assert.deepEqual([direct.total_count, direct.total_count_capped], [2, undefined]);
    const chats = await h.control('GET', `/accounts/${me.id}/chats`);
    assert.deepEqual(
      chats.chats.map((c: { id: string; message_count: number; message_count_capped?: boolean }) => [c.id, c.message_count, c.message_count_capped]),
      [[String(ryan.id), 2, undefined], ['memo', 1000, true]],
    );
    const page = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${me.id}` });
    assert.match(page.body, /1000\+ messages/);
  });

  it("a person's chats page by `before`, latest activity first: each once; a chat that gets a message meanwhile is not shown twice", async () => {
    const app = await h.createApp();
    const [me, ...friends] = await people(6);
    for (const f of friends) await insertMessages(h, messageRows(me.id, 'direct', f.id, 2, app.id));
    await insertMessages(h, messageRows(me.id, 'memo', me.id, 1, app.id));
    const order = ['memo', ...friends.map((f) => String(f.id)).reverse()];
    const read = async (url: string) => {
      const body = await h.control('GET', url);
      return { items: body.chats.map((c: { id: string }) => c.id) as string[], next: body.next === undefined ? undefined : `/accounts/${me.id}/chats?limit=2&before=${body.next}` };
    };
    assert.deepEqual((await allPages(`/accounts/${me.id}/chats?limit=2`, read)).flat(), order);
    let turn = 0;
    const pages = await allPages(`/accounts/${me.id}/chats?limit=2`, read, async () => {
      // The chat listed first gets a message after each of the first two pages.
      if (turn++ < 2) await insertMessages(h, messageRows(me.id, 'memo', me.id, 1, app.id));
    });
    assert.deepEqual(pages.flat(), order);
    assert.equal((await h.control('GET', `/accounts/${me.id}/chats`)).total_count, 6);
  });

  it('a 1:1 chat and a group chat that share a number are two chats, each with its own messages', async () => {
    const app = await h.createApp();
    const [me, other] = await people(2);
    // Explicit ids let a person's id be a group chat's id.
    const group = await h.control('POST', '/group_chats', { title: 'g', member_account_ids: [me.id, other.id] });
    const twin = await h.createAccount({ id: group.id, nickname: 'twin' });
    await insertMessages(h, messageRows(me.id, 'direct', twin.id, 3, app.id));
    await insertMessages(h, messageRows(me.id, 'group', group.id, 2, app.id));
    await insertMessages(h, messageRows(me.id, 'memo', me.id, 1, app.id));
    const chats = await h.control('GET', `/accounts/${me.id}/chats`);
    assert.equal(chats.total_count, 3);
    assert.deepEqual(
      chats.chats.map((c: { id: string; type: string; message_count: number }) => [c.id, c.type, c.message_count]),
      [['memo', 'memo', 1], [`g${group.id}`, 'group', 2], [String(twin.id), 'direct', 3]],
    );
    const read = async (url: string) => {
      const body = await h.control('GET', url);
      return { items: body.chats.map((c: { id: string }) => c.id) as string[], next: body.next === undefined ? undefined : `/accounts/${me.id}/chats?limit=1&before=${body.next}` };
    };
    assert.deepEqual((await allPages(`/accounts/${me.id}/chats?limit=1`, read)).flat(), ['memo', `g${group.id}`, String(twin.id)]);
    assert.equal((await h.control('GET', `/accounts/${me.id}/chats/${twin.id}/messages`)).total_count, 3);
    assert.equal((await h.control('GET', `/accounts/${me.id}/chats/g${group.id}/messages`)).total_count, 2);
    // The query plans hold with both kinds under one number.
    assertIndexed(await plansOf(h.store.db, (d) => listChats(d, me.id)), /talk_messages_chat/);
    assertIndexed(await plansOf(h.store.db, (d) => listMessages(d, me.id, { type: 'direct', peer: twin.id }, {}, 20)), /talk_messages_chat/);
  });

  it("a group chat's pages go on after any member is deleted between them, the first included: each message once, newest first", async () => {
    const app = await h.createApp();
    const readAll = async (url: string, limit: number, between?: () => Promise<void>) =>
      (await allPages(`${url}?limit=${limit}`, async (u) => {
        const res = await h.inject({ method: 'GET', url: `/_kapibara/v1${u}` });
        assert.equal(res.statusCode, 200, `${u}: ${res.body}`);
        const body = res.json();
        return { items: body.messages.map((m: { template: { text: string } }) => m.template.text) as string[], next: body.next === undefined ? undefined : `${url}?limit=${limit}&before=${body.next}` };
      }, between)).flat();
    for (const gone of [0, 1, 2]) {
      const members = await people(4);
      const group = await h.control('POST', '/group_chats', { title: 'g', member_account_ids: members.map((m) => m.id) });
      // Seven sends to the group, as deliveries store them: one row per member each, two sharing a time.
      const texts = Array.from({ length: 7 }, (_, i) => `m${i}`);
      const chat = { id: group.id, title: 'g', memberAccountIds: members.map((m) => m.id), createdAt: 0 };
      for (const [i, text] of texts.entries()) {
        const at = (clock += i === 4 ? 0 : 1000);
        await deliver(h.store, { appId: app.id, senderAccountId: members[0].id, templateType: 'text', templateId: null, template: { object_type: 'text', text } }, { groups: [chat] }, at);
      }
      const newest = [...texts].reverse();
      assert.deepEqual(await readAll(`/group_chats/${group.id}/messages`, 3), newest);
      let deleted = false;
      const once = async () => {
        if (!deleted) await h.control('DELETE', `/accounts/${members[gone].id}`);
        deleted = true;
      };
      assert.deepEqual(await readAll(`/group_chats/${group.id}/messages`, 3, once), newest, `member ${gone} deleted after the first page`);
      // A person's own view of the group chat goes on too when another member is deleted.
      const viewer = members[3];
      deleted = false;
      const other = members.find((m, i) => i !== 3 && i !== gone)!;
      const drop = async () => {
        if (!deleted) await h.control('DELETE', `/accounts/${other.id}`);
        deleted = true;
      };
      assert.deepEqual(await readAll(`/accounts/${viewer.id}/chats/g${group.id}/messages`, 2, drop), newest);
      // A copy of a member other than the first is no cursor of the chat's pages; the lookup reads by index.
      const first = (await h.control('GET', `/group_chats/${group.id}`)).member_account_ids[0];
      const copy = await h.store.db.selectFrom('talk_messages').select('id').where('account_id', '=', viewer.id).where('peer_account_id', '=', group.id).executeTakeFirstOrThrow();
      const refused = await h.inject({ method: 'GET', url: `/_kapibara/v1/group_chats/${group.id}/messages?before=${copy.id}` });
      assert.deepEqual([refused.statusCode, refused.json()], [400, { error: `before: group chat ${group.id} has no message ${copy.id}` }]);
      const plans = await plansOf(h.store.db, (d) => groupMessagePosition(d, group.id, first, Number(copy.id)));
      assertIndexed(plans, /talk_messages_key/);
      assertIndexed(plans, /USING INTEGER PRIMARY KEY|talk_messages_pkey|talk_messages_chat/);
      assertIndexed(await plansOf(h.store.db, (d) => groupChatMessages(d, group.id, first, { before: { createdAt: clock, id: Number(copy.id) } }, 4), { sortsFound: true }), /talk_messages_chat/, { sortsFound: true });
    }
  });

  it("a group chat's messages stored before their copies shared a key page as before: each copy its own message, named by the first member's copy", async () => {
    const app = await h.createApp();
    const members = await people(3);
    const group = await h.control('POST', '/group_chats', { title: 'g', member_account_ids: members.map((m) => m.id) });
    // Rows as earlier versions stored them (no key), two sends sharing a time; then one sent now.
    for (const [i, text] of ['old0', 'old1', 'old2'].entries()) {
      const at = (clock += i === 2 ? 0 : 1000);
      await insertMessages(h, members.map((m) => ({ ...messageRows(m.id, 'group', group.id, 1, app.id)[0], sender_account_id: members[0].id, template: JSON.stringify({ object_type: 'text', text }), created_at: at })));
    }
    const chat = { id: group.id, title: 'g', memberAccountIds: members.map((m) => m.id), createdAt: 0 };
    await deliver(h.store, { appId: app.id, senderAccountId: members[0].id, templateType: 'text', templateId: null, template: { object_type: 'text', text: 'new' } }, { groups: [chat] }, (clock += 1000));
    const texts: string[] = [];
    const nexts: number[] = [];
    await allPages(`/group_chats/${group.id}/messages?limit=1`, async (u) => {
      const body = await h.control('GET', u);
      texts.push(...body.messages.map((m: { template: { text: string } }) => m.template.text));
      if (body.next !== undefined) nexts.push(body.next);
      return { items: body.messages, next: body.next === undefined ? undefined : `/group_chats/${group.id}/messages?limit=1&before=${body.next}` };
    });
    assert.deepEqual(texts, ['new', 'old2', 'old1', 'old0']);
    // An earlier version's cursor, the id of the first member's copy, still names its message.
    const own = await h.store.db.selectFrom('talk_messages').select('id').where('account_id', '=', members[0].id).where('peer_account_id', '=', group.id).where('message_key', 'is', null).orderBy('id').execute();
    assert.deepEqual(nexts.slice(1), [Number(own[2].id), Number(own[1].id)]);
    const after = await h.control('GET', `/group_chats/${group.id}/messages?before=${own[1].id}`);
    assert.deepEqual(after.messages.map((m: { template: { text: string } }) => m.template.text), ['old0']);
  });

  it("a group chat's pages go on after its first member is deleted whatever the order of the ids of its copies: concurrent sends interleave them", async () => {
    const app = await h.createApp();
    // Two sends (A and B, by their text) whose rows the log writer stores together in the
    // order `order` gives (A's rows first, then B's): as two INSERTs under way at once on
    // PostgreSQL can take ids from the sequence in turn.
    const interleaving = (order: number[]) => {
      const log = h.store.registry.get(MESSAGE_LOG);
      const append = log.append;
      type Rows = Parameters<typeof append>[0];
      let held: { rows: Rows; done: (stored: Promise<void>) => void } | undefined;
      log.append = (rows) => {
        if (!held) return new Promise<void>((resolve, reject) => (held = { rows, done: (stored) => stored.then(resolve, reject) }));
        const both = [held.rows, rows].sort((x) => (JSON.parse(x[0].template).text === 'A' ? -1 : 1)).flat();
        const stored = append.call(log, order.map((i) => both[i]));
        held.done(stored);
        return stored;
      };
      return () => void delete (log as { append?: unknown }).append;
    };
    const readAll = async (chatId: number, between?: () => Promise<void>) =>
      (await allPages(`/group_chats/${chatId}/messages?limit=1`, async (u) => {
        const res = await h.inject({ method: 'GET', url: `/_kapibara/v1${u}` });
        assert.equal(res.statusCode, 200, `${u}: ${res.body}`);
        const body = res.json();
        return { items: body.messages.map((m: { template: { text: string } }) => m.template.text) as string[], next: body.next === undefined ? undefined : `/group_chats/${chatId}/messages?limit=1&before=${body.next}` };
      }, between)).flat();
    // Sends A then B, three copies each (A0 A1 A2, B0 B1 B2: indexes 0-2 and 3-5): the first
    // member's copies in one order and the others' in the other (same time), or the first
    // member's copy of B right before another member's copy of A (B newer).
    const orders: [string, number, number, number[]][] = [
      ['the same time, the members holding them in orders of their own', 0, 0, [0, 3, 4, 5, 1, 2]],
      ['B a second later, its first copy between two of A', 0, 1000, [0, 3, 1, 4, 2, 5]],
    ];
    for (const [what, atA, atB, order] of orders) {
      const members = await people(3);
      const group = await h.control('POST', '/group_chats', { title: 'g', member_account_ids: members.map((m) => m.id) });
      const chat = { id: group.id, title: 'g', memberAccountIds: members.map((m) => m.id), createdAt: 0 };
      const send = (text: string, at: number) => deliver(h.store, { appId: app.id, senderAccountId: members[1].id, templateType: 'text', templateId: null, template: { object_type: 'text', text } }, { groups: [chat] }, at);
      await send('before', clock += 1000);
      const release = interleaving(order);
      const at = (clock += 1000);
      try {
        await Promise.all([send('A', at + atA), send('B', at + atB)]);
      } finally {
        release();
      }
      const copies = await h.store.db.selectFrom('talk_messages').select(['id', 'account_id']).where('peer_account_id', '=', group.id).where('created_at', '>=', at).orderBy('id').execute();
      assert.equal(copies.length, 6, 'both sends stored');
      const whole = await readAll(group.id);
      assert.equal(whole.length, 3);
      let deleted = false;
      const dropFirst = async () => {
        if (!deleted) await h.control('DELETE', `/accounts/${members[0].id}`);
        deleted = true;
      };
      assert.deepEqual(await readAll(group.id, dropFirst), whole, `${what}: each message once, in the order the first page began`);
    }
  });

  it("a group chat message's key, imported with it, is never drawn again for a message sent after the import", async () => {
    const app = await h.createApp();
    const members = await people(2);
    const group = await h.control('POST', '/group_chats', { title: 'g', member_account_ids: members.map((m) => m.id) });
    const chat = { id: group.id, title: 'g', memberAccountIds: members.map((m) => m.id), createdAt: 0 };
    const send = (text: string) => deliver(h.store, { appId: app.id, senderAccountId: members[0].id, templateType: 'text', templateId: null, template: { object_type: 'text', text } }, { groups: [chat] }, (clock += 1000));
    await send('first');
    // A state whose message has the key this store would draw next (one drawn by the store the
    // state comes from), imported: the next message sent gets a key of its own.
    const state = await h.control('GET', '/state');
    const imported = Number(state.talk_messages[0].message_key) + 1;
    for (const row of state.talk_messages) row.message_key = imported;
    await h.control('PUT', '/state', state);
    for (let i = 0; i < 3; i++) await send(`after ${i}`);
    const keys = await h.store.db.selectFrom('talk_messages').select('message_key').where('peer_account_id', '=', group.id).where('account_id', '=', members[0].id).execute();
    assert.equal(new Set(keys.map((k) => Number(k.message_key))).size, 4, `every message its own key: ${keys.map((k) => k.message_key)}`);
    assert.ok(keys.every((k) => Number(k.message_key) >= imported), 'keys drawn after the import are past the imported one');
  });

  it('the queries of the lists read by index, whatever the tables hold (query plans)', async () => {
    const app = await h.createApp();
    const [me, ryan] = await people(2);
    await insertMessages(h, [...messageRows(me.id, 'memo', me.id, 5, app.id), ...messageRows(me.id, 'direct', ryan.id, 5, app.id)]);
    const db = h.store.db;
    const last = (await db.selectFrom('talk_messages').select('id').where('account_id', '=', me.id).orderBy('id', 'desc').executeTakeFirstOrThrow()).id;
    const at = (await messagePosition(db, me.id, Number(last)))!;
    assertIndexed(await plansOf(db, (d) => listAccounts(d, me.id, 10)), /sqlite_autoindex_accounts_1|accounts_pkey/);
    assertIndexed(await plansOf(db, (d) => listAppsPage(d, app.id, 10)), /sqlite_autoindex_apps_1|apps_pkey/);
    assertIndexed(await plansOf(db, (d) => searchAccounts(d, 'pers', 10)), /accounts_nickname/);
    assertIndexed(await plansOf(db, (d) => searchAccounts(d, 'pers', 10, { nickname: 'person 1', id: me.id })), /accounts_nickname/);
    // All chats: each chat read by the chat index from where the page starts (no index by person and time).
    assertIndexed(await plansOf(db, (d) => listMessages(d, me.id, undefined, { before: at }, 20)), /talk_messages_chat/);
    assertIndexed(await plansOf(db, (d) => listMessages(d, me.id, { type: 'memo', peer: me.id }, { before: at }, 20)), /talk_messages_chat/);
    assertIndexed(await plansOf(db, (d) => countMessages(d, me.id, undefined)), /talk_messages_chat/);
    assertIndexed(await plansOf(db, (d) => listChats(d, me.id)), /talk_messages_chat/);
    assertIndexed(await plansOf(db, (d) => d.selectFrom('app_users').selectAll().where('account_id', '=', me.id).execute()), /app_users_account/);
    // A person's friends: only their friendships, by the primary key, then sorted by nickname (bounded by their friends).
    await h.befriend(me, ryan);
    assertIndexed(await plansOf(db, (d) => listFriends(d, me.id), { sortsFound: true }), /sqlite_autoindex_friendships_1|friendships_pk/, { sortsFound: true });
  });
});

forEachStore('Console pages page', (h) => {
  /** The plans of every statement a console page runs (index searches only, no table read whole). */
  async function pagePlans(url: string) {
    return plansOf(h.store.db, async (d) => {
      const platform = h.app.platform;
      const db = platform.db;
      platform.db = d;
      try {
        const res = await h.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 200, res.body);
      } finally {
        platform.db = db;
      }
    }, { sortsFound: true });
  }
  /** Follows a console page's "Next" link (`data-next`) from the first page to the last; what each page shows. */
  async function consolePages(first: string, shown: (body: string) => string[], between?: () => Promise<void>): Promise<string[][]> {
    return allPages(first, async (url) => {
      const res = await h.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, res.body);
      const next = /<a data-next="[^"]*" href="([^"]+)"/.exec(res.body)?.[1]?.replaceAll('&amp;', '&');
      return { items: shown(res.body), next };
    }, between);
  }

  it('the channels page shows 50 channels at a time, oldest first, with a link to the next; each channel once; read by index', async () => {
    const app = await h.createApp();
    const made: { id: number; public_id: string }[] = [];
    for (let i = 0; i < 53; i++) made.push(await h.control('POST', '/channels', { app_id: app.id, name: `c${i}`, search_id: `@c${i}` }));
    // Times out of id order, some the same: the order is by time, then id.
    for (const [i, c] of made.entries()) await h.store.db.updateTable('channels').set({ created_at: Date.UTC(2030, 0, 1, 0, 0, (i * 7) % 13) }).where('id', '=', c.id).execute();
    const stored = await h.store.db.selectFrom('channels').select(['public_id', 'id', 'created_at']).execute();
    const oldest = stored.sort((a, b) => Number(a.created_at) - Number(b.created_at) || Number(a.id) - Number(b.id)).map((c) => c.public_id);
    const shown = (body: string) => [...body.matchAll(/<section data-channel="([^"]+)">/g)].map((m) => m[1]);
    let deleted = false;
    const pages = await consolePages('/_kapibara/console/channels', shown, async () => {
      // The last channel of the first page, deleted before the next is read: the next page goes on after it.
      if (!deleted) await h.control('DELETE', `/channels/${oldest[49]}`);
      deleted = true;
    });
    assert.deepEqual(pages.map((p) => p.length), [50, 3]);
    assert.deepEqual(pages.flat(), oldest, 'each channel once, oldest first');
    // A channel with more followers than shown: the first 20 by account id, and the count.
    const people: TestAccount[] = [];
    for (let i = 0; i < 23; i++) people.push(await h.createAccount({ nickname: `f${i}` }));
    for (const [i, p] of people.entries()) await h.control('PUT', `/channels/${oldest[0]}/relations/${p.id}`, { relation: i < 21 ? 'ADDED' : 'BLOCKED' });
    const page = (await h.inject({ method: 'GET', url: '/_kapibara/console/channels' })).body;
    const section = page.slice(page.indexOf(`data-channel="${oldest[0]}"`), page.indexOf(`data-channel="${oldest[1]}"`));
    assert.match(section, /21 followers &middot; 2 blocks/);
    assert.deepEqual([...section.matchAll(/people\/(\d+)">/g)].map((m) => Number(m[1])), people.map((p) => p.id).sort((a, b) => a - b).slice(0, 20));
    assert.match(section, /20 of 23 shown/);
    // A page after a channel, as the link names it; a cursor without its other half is a 400 naming it.
    const bad = await h.inject({ method: 'GET', url: '/_kapibara/console/channels?after=5' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /after_time/);
    // Every statement the page runs reads by index: no channel list read whole, no follower list either.
    assertIndexed(await pagePlans('/_kapibara/console/channels'), /channels_created/, { sortsFound: true });
  });

  it("a person's page shows their channels by the channels they relate to, not a read of every channel", async () => {
    const app = await h.createApp();
    const person = await h.createAccount({ nickname: 'fan' });
    const channels: { id: number; public_id: string }[] = [];
    for (let i = 0; i < 4; i++) channels.push(await h.control('POST', '/channels', { app_id: app.id, name: `ch${i}`, search_id: `@ch${i}` }));
    await h.control('PUT', `/channels/${channels[1].public_id}/relations/${person.id}`, { relation: 'ADDED' });
    await h.control('PUT', `/channels/${channels[3].public_id}/relations/${person.id}`, { relation: 'BLOCKED' });
    const res = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${person.id}` });
    assert.match(res.body, /Kakao Talk Channels \(2\)/);
    assert.match(res.body, new RegExp(`ch3 <code>${channels[3].public_id}</code></td><td>BLOCKED`));
    assert.match(res.body, new RegExp(`ch1 <code>${channels[1].public_id}</code></td><td>ADDED`));
    assertIndexed(await plansOf(h.store.db, (d) => channelSection({ db: d } as Platform, { id: person.id } as Account, 'http://localhost'), { sortsFound: true }), /channel_relations_account/, { sortsFound: true });
  });

  it('the push page shows 50 devices at a time, by app, uuid and registration, with a link to the next; each device once; read by index', async () => {
    const apps = [await h.createApp({ name: 'P1' }), await h.createApp({ name: 'P2' }), await h.createApp({ name: 'P3' })];
    const none = await h.createApp({ name: 'No devices' });
    const rows = [];
    for (const [a, app] of apps.entries()) {
      for (let i = 0; i < 20 + a * 3; i++) {
        const at = Date.UTC(2030, 0, 1) + ((i * 5) % 7) * 1000;
        rows.push({ app_id: app.id, uuid: String(i % 4), device_id: `d${a}x${String(i).padStart(2, '0')}`, push_type: 'fcm', push_token: `t${a}-${i}`, created_at: at, updated_at: at, expires_at: null });
      }
    }
    await h.store.db.insertInto('push_tokens').values(rows as never).execute();
    const order = [...rows]
      .sort((x, y) => x.app_id - y.app_id || (x.uuid < y.uuid ? -1 : x.uuid > y.uuid ? 1 : 0) || x.created_at - y.created_at || (x.device_id < y.device_id ? -1 : x.device_id > y.device_id ? 1 : 0))
      .map((r) => `${r.app_id}/${r.device_id}`);
    const shown = (body: string) => {
      const out: string[] = [];
      for (const section of body.split('<section data-app="').slice(1)) {
        const appId = section.slice(0, section.indexOf('"'));
        for (const m of section.matchAll(/<div class="card" data-device="([^"]+)">/g)) out.push(`${appId}/${m[1]}`);
      }
      return out;
    };
    let deleted = false;
    const pages = await consolePages('/_kapibara/console/push', shown, async () => {
      // The device a page ended on, deregistered before the next page is read: the next goes on after it.
      if (!deleted) {
        const [appId, device] = order[49].split('/');
        await h.store.db.deleteFrom('push_tokens').where('app_id', '=', Number(appId)).where('device_id', '=', device).execute();
      }
      deleted = true;
    });
    assert.deepEqual(pages.map((p) => p.length), [50, 19]);
    assert.deepEqual(pages.flat(), order, 'each device once, in order');
    const first = (await h.inject({ method: 'GET', url: '/_kapibara/console/push' })).body;
    assert.doesNotMatch(first, new RegExp(`app ${none.id}<`), 'an app with no device has no section');
    const bad = await h.inject({ method: 'GET', url: '/_kapibara/console/push?after_app=5' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /after_uuid/);
    assertIndexed(await pagePlans('/_kapibara/console/push'), /push_tokens_listed/, { sortsFound: true });
    const at = rows[30];
    assertIndexed(await plansOf(h.store.db, (d) => devicesPage(d, { appId: at.app_id, uuid: at.uuid, createdAt: at.created_at, deviceId: at.device_id }, 51)), /push_tokens_listed/);
  });

  it('the overview shows 50 people and apps at a time with a link to the next, and finds people by id, email or the start of a nickname', async () => {
    const made: TestAccount[] = [];
    for (let i = 0; i < 53; i++) made.push(await h.createAccount({ nickname: `n${String(i).padStart(2, '0')}`, email: `p${i}@example.com` }));
    const first = await h.inject({ method: 'GET', url: '/_kapibara/console' });
    assert.equal(first.statusCode, 200);
    const shown = (body: string) => [...body.matchAll(/<span class="muted">account (\d+)<\/span>/g)].map((m) => Number(m[1]));
    assert.equal(shown(first.body).length, 50);
    const next = /data-next="people" href="([^"]+)"/.exec(first.body)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(next, 'a link to the next people');
    const second = await h.inject({ method: 'GET', url: next });
    assert.deepEqual([...shown(first.body), ...shown(second.body)], made.map((p) => p.id).sort((a, b) => a - b));
    assert.doesNotMatch(second.body, /data-next="people"/);
    const find = async (q: string) => shown((await h.inject({ method: 'GET', url: `/_kapibara/console?q=${encodeURIComponent(q)}` })).body);
    assert.deepEqual(await find('n1'), made.slice(10, 20).map((p) => p.id));
    assert.deepEqual(await find('p7@example.com'), [made[7].id]);
    assert.deepEqual(await find(String(made[3].id)), [made[3].id]);
    assert.deepEqual(await find('nobody'), []);
    // More matches than a page: the page says so and links to the rest, each person once, in order.
    const many: TestAccount[] = [];
    for (let i = 0; i < 57; i++) many.push(await h.createAccount({ nickname: `same ${String(i % 3)}`, email: `s${i}@example.com` }));
    const expected = [...many].sort((a, b) => (a.nickname < b.nickname ? -1 : a.nickname > b.nickname ? 1 : a.id - b.id)).map((p) => p.id);
    const firstFound = await h.inject({ method: 'GET', url: '/_kapibara/console?q=same' });
    assert.equal(shown(firstFound.body).length, 50);
    assert.match(firstFound.body, /More people match/);
    const moreUrl = /data-next="people" href="([^"]+)"/.exec(firstFound.body)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(moreUrl, 'a link to the next matches');
    const secondFound = await h.inject({ method: 'GET', url: moreUrl });
    assert.equal(secondFound.statusCode, 200, secondFound.body);
    assert.deepEqual([...shown(firstFound.body), ...shown(secondFound.body)], expected);
    assert.doesNotMatch(secondFound.body, /data-next="people"|More people match/);
    // Fewer matches than a page: no notice, no link.
    const some = await h.inject({ method: 'GET', url: `/_kapibara/console?q=${encodeURIComponent('same 0')}` });
    assert.equal(shown(some.body).length, 19);
    assert.doesNotMatch(some.body, /data-next="people"|More people match/);
    // Exactly a page of matches: no notice, no link.
    const edge: TestAccount[] = [];
    for (let i = 0; i < 50; i++) edge.push(await h.createAccount({ nickname: 'edge', email: `e${i}@example.com` }));
    const fifty = await h.inject({ method: 'GET', url: '/_kapibara/console?q=edge' });
    assert.deepEqual(shown(fifty.body), edge.map((p) => p.id));
    assert.doesNotMatch(fifty.body, /data-next="people"|More people match/);
    // One more than a page: the notice and the link, and the 51st on the next page.
    edge.push(await h.createAccount({ nickname: 'edge', email: 'e50@example.com' }));
    const fiftyOne = await h.inject({ method: 'GET', url: '/_kapibara/console?q=edge' });
    assert.deepEqual(shown(fiftyOne.body), edge.slice(0, 50).map((p) => p.id));
    assert.match(fiftyOne.body, /More people match/);
    const rest = /data-next="people" href="([^"]+)"/.exec(fiftyOne.body)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(rest, 'a link to the 51st match');
    const last = await h.inject({ method: 'GET', url: rest });
    assert.equal(last.statusCode, 200, last.body);
    assert.deepEqual(shown(last.body), [edge[50].id]);
    assert.doesNotMatch(last.body, /data-next="people"|More people match/);
    const long = await h.inject({ method: 'GET', url: `/_kapibara/console?q=${'x'.repeat(300)}` });
    assert.equal(long.statusCode, 400);
  });
});
