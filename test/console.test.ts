import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { forEachStore } from './helpers/harness.js';
import { buildApp } from '../src/app.js';
import { newOperatorToken } from '../src/config.js';
import { avatarUrl } from '../src/console/avatars.js';
import { assertIndexed, plansOf } from './helpers/query-plans.js';
import { findGroupChats, quietGroupChats } from '../src/products/message/store.js';

forEachStore('web console', (h) => {
  it('shows apps with their keys and people, escaping what people typed', async () => {
    const app = await h.createApp({ name: 'Console shop' });
    const evil = await h.createAccount({ nickname: '<script>alert(1)</script>', email: 'evil@example.com' });
    const res = await h.inject({ method: 'GET', url: '/_kapibara/console' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.ok(res.body.includes('Console shop'));
    assert.ok(res.body.includes(app.rest_api_key));
    assert.ok(res.body.includes(app.admin_key));
    assert.ok(!res.body.includes('<script>alert(1)</script>'));
    assert.ok(res.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(res.body.includes(`/_kapibara/console/people/${evil.id}`));
  });

  it("shows a person's account, connected apps with agreed items, and friends", async () => {
    const app = await h.createApp({ name: 'Linked app' });
    const ryan = await h.createAccount({ nickname: 'Ryan', email: 'ryan@example.com' });
    const apeach = await h.createAccount({ nickname: 'Apeach' });
    await h.befriend(ryan, apeach, true);
    const t = await h.token(app, ryan, ['profile_nickname', 'friends']);
    const res = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${ryan.id}` });
    assert.equal(res.statusCode, 200);
    assert.ok(res.body.includes('ryan@example.com'));
    assert.ok(res.body.includes('Linked app'));
    assert.ok(res.body.includes(String(t.user_id)));
    assert.ok(res.body.includes('friends'));
    assert.ok(res.body.includes('Apeach'));
    const missing = await h.inject({ method: 'GET', url: '/_kapibara/console/people/999' });
    assert.equal(missing.statusCode, 404);
  });

  it("shows a person's shipping addresses as their Kakao account does: the default first, then the newest, escaped; a long list is cut with a pointer to the control plane", async () => {
    const ryan = await h.createAccount({ nickname: 'Ryan' });
    const page = async (id: number) => (await h.inject({ method: 'GET', url: `/_kapibara/console/people/${id}` })).body;
    assert.match(await page(ryan.id), /<h2>Shipping addresses<\/h2><p class="muted">No shipping address\.<\/p>/);
    await h.control('POST', `/accounts/${ryan.id}/shipping_addresses`, { name: 'Home', is_default: true, base_address: 'Seoul, Gangnam-gu 1', detail_address: '101-1001', receiver_name: 'Ryan', receiver_phone_number1: '010-1234-5678', zone_number: '06236', updated_at: '2026-01-01T00:00:00Z' });
    await h.control('POST', `/accounts/${ryan.id}/shipping_addresses`, { name: '<b>Office</b>', base_address: 'Pangyo 2', updated_at: '2026-02-01T00:00:00Z' });
    const shown = (await page(ryan.id)).split('<h2>Shipping addresses</h2>')[1].split('</section>')[0];
    assert.ok(shown.indexOf('Home') < shown.indexOf('Office'), shown);
    assert.ok(shown.includes('<span class="pill">default</span>'));
    assert.ok(shown.includes('Seoul, Gangnam-gu 1<br>101-1001'));
    assert.ok(shown.includes('Ryan<br>010-1234-5678'));
    assert.ok(shown.includes('06236 / —'));
    assert.ok(shown.includes('2026-02-01T00:00:00Z'));
    assert.ok(!shown.includes('<b>Office</b>') && shown.includes('&lt;b&gt;Office&lt;/b&gt;'));
    assert.ok(!shown.includes('lists every one'));

    const many = await h.createAccount({ nickname: 'Many' });
    for (let i = 0; i < 51; i++) await h.control('POST', `/accounts/${many.id}/shipping_addresses`, { name: `address ${i}`, base_address: 'x' });
    const cut = (await page(many.id)).split('<h2>Shipping addresses</h2>')[1].split('</section>')[0];
    assert.equal(cut.match(/<tr><td>/g)?.length, 50);
    assert.ok(cut.includes('address 50') && !cut.includes('address 0<'), 'the newest 50');
    assert.ok(cut.includes(`The first 50; <code>GET /_kapibara/v1/accounts/${many.id}/shipping_addresses</code> lists every one.`));
  });

  it('opens with a generated operator token, by ?token= and then by its cookie; refuses a token no cookie can carry', async () => {
    for (let i = 0; i < 20; i++) {
      const token = newOperatorToken();
      const guarded = await buildApp({ store: h.store, operatorToken: token });
      try {
        assert.equal((await guarded.inject({ method: 'GET', url: '/_kapibara/console' })).statusCode, 401);
        const opened = await guarded.inject({ method: 'GET', url: `/_kapibara/console?token=${encodeURIComponent(token)}` });
        assert.equal(opened.statusCode, 200, `${token}: ${opened.body.slice(0, 200)}`);
        const cookie = String(opened.headers['set-cookie']).split(';')[0];
        assert.equal(cookie, `kapibara_operator=${token}`);
        assert.equal((await guarded.inject({ method: 'GET', url: '/_kapibara/console/requests', headers: { cookie } })).statusCode, 200);
      } finally {
        await guarded.close();
      }
    }
    for (const token of ['비밀 토큰', 'abc;def', 'a b', 'a,b', 'say"hi"', 'back\\slash', 'tab\there']) {
      await assert.rejects(buildApp({ store: h.store, operatorToken: token }), /operatorToken: expected ASCII letters, digits and punctuation other than/, token);
    }
  });

  it('draws profile pictures for simulated people at both Kakao sizes', async () => {
    for (const size of [110, 640]) {
      const res = await h.inject({ method: 'GET', url: `/_kapibara/avatars/ryan_${size}.png?initial=R` });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'image/png');
      const meta = await sharp(res.rawPayload).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', size, size]);
    }
    const bad = await h.inject({ method: 'GET', url: '/_kapibara/avatars/ryan_99.png' });
    assert.equal(bad.statusCode, 400);
  });

  it("shows a person's chats with rendered messages and their stories with friends' reactions", async () => {
    const app = await h.createApp({ name: 'Messenger', consent_items: { profile_nickname: 'required', talk_message: 'optional', story_publish: 'optional', story_read: 'optional' } });
    const ryan = await h.createAccount({ nickname: 'Ryan' });
    const apeach = await h.createAccount({ nickname: 'Apeach' });
    await h.befriend(ryan, apeach);
    const t = await h.token(app, ryan);
    const sent = await h.kapi('POST', '/v2/api/talk/memo/default/send', t.access_token, {
      template_object: { object_type: 'text', text: 'Hello <b>me</b>', link: { web_url: 'http://localhost:3000/x' }, button_title: 'Open it' },
    });
    assert.equal(sent.statusCode, 200, sent.body);
    const posted = await h.kapi('POST', '/v1/api/story/post/note', t.access_token, { content: 'A day at the river' });
    assert.equal(posted.statusCode, 200, posted.body);
    const storyId = posted.json().id;
    await h.control('POST', `/stories/${storyId}/comments`, { account_id: apeach.id, text: 'Looks fun!' });
    await h.control('PUT', `/stories/${storyId}/likes/${apeach.id}`, { emotion: 'COOL' });

    const res = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${ryan.id}` });
    assert.equal(res.statusCode, 200);
    assert.ok(res.body.includes('Me (memo chat)'));
    assert.ok(res.body.includes('Hello &lt;b&gt;me&lt;/b&gt;'), 'the message text, escaped');
    assert.ok(res.body.includes('Open it'));
    assert.ok(res.body.includes('via Messenger'));
    assert.ok(res.body.includes('A day at the river'));
    assert.ok(res.body.includes('Looks fun!'));
    assert.ok(res.body.includes('Apeach: COOL'));
  });

  it('pages a person with more chats than the person page shows, and finds their group chats with messages among all of them', async () => {
    const app = await h.createApp();
    const eve = await h.createAccount({ nickname: 'Eve' });
    const others = [];
    for (let i = 0; i < 23; i++) others.push(await h.createAccount({ nickname: `Friend ${String(i).padStart(2, '0')}` }));
    const chatty = await h.control('POST', '/group_chats', { title: 'Chatty group', member_account_ids: [eve.id, others[0].id, others[1].id] });
    const quiet = await h.control('POST', '/group_chats', { title: 'Quiet group', member_account_ids: [eve.id, others[2].id] });
    const message = (id: number, peer: number, type: string, at: number) => ({
      id, account_id: eve.id, chat_type: type, peer_account_id: peer, app_id: app.id, sender_account_id: eve.id,
      template_type: 'default', template_id: null, template: { object_type: 'text', text: `message ${id}`, link: {} }, created_at: at,
    });
    // The group chat's message is the oldest: 22 direct chats with newer messages come before it.
    const messages = [message(1, chatty.id, 'group', 1_000), ...others.slice(0, 22).map((o, i) => message(2 + i, o.id, 'direct', 2_000 + i))];
    await h.control('POST', '/state', { talk_messages: messages });

    const page = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${eve.id}` });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Kakao Talk chats \(23\)/);
    assert.equal(page.body.match(/<h3 data-chat=/g)?.length, 20);
    const quietLine = /Group chats with no messages yet: ([^<]*)/.exec(page.body)?.[1] ?? '';
    assert.match(quietLine, /Quiet group/);
    assert.doesNotMatch(quietLine, /Chatty group/);
    const more = /<a href="([^"]+)">[^<]*older chats/i.exec(page.body);
    assert.ok(more, 'the person page links to the chats it does not show');
    assert.equal(more[1], `/_kapibara/console/people/${eve.id}/chats?page=2`);

    const second = await h.inject({ method: 'GET', url: more[1] });
    assert.equal(second.statusCode, 200);
    assert.deepEqual(
      [...second.body.matchAll(/<h3 data-chat="([^"]+)"/g)].map((m) => m[1]),
      [String(others[1].id), String(others[0].id), `g${chatty.id}`],
    );
    assert.match(second.body, /message 1</);
    assert.match(second.body, /chats 21&ndash;23 of 23/);
    assert.ok(second.body.includes(`href="/_kapibara/console/people/${eve.id}/chats?page=1"`), 'a link back to newer chats');
    assert.doesNotMatch(second.body, /page=3/);
    assert.ok(second.body.includes(`Quiet group`));

    const beyond = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${eve.id}/chats?page=9` });
    assert.equal(beyond.statusCode, 200);
    assert.match(beyond.body, /No chats on this page/);
    for (const bad of ['page=0', 'page=x', 'page=1.5']) {
      const res = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${eve.id}/chats?${bad}` });
      assert.equal(res.statusCode, 400, bad);
      assert.match(String(res.headers['content-type']), /text\/html/);
    }
    assert.equal((await h.inject({ method: 'GET', url: '/_kapibara/console/people/999999/chats' })).statusCode, 404);
  });

  it("a person's page reads only the group chats it shows, however many the person is in", async () => {
    const app = await h.createApp();
    const eve = await h.createAccount({ nickname: 'Eve' });
    const [ann, bob] = [await h.createAccount({ nickname: 'Ann' }), await h.createAccount({ nickname: 'Bob' })];
    const spoken: number[] = [];
    const quiet: number[] = [];
    for (let i = 0; i < 30; i++) spoken.push((await h.control('POST', '/group_chats', { title: `spoken ${i}`, member_account_ids: [eve.id, ann.id, bob.id] })).id);
    for (let i = 0; i < 25; i++) quiet.push((await h.control('POST', '/group_chats', { title: `quiet ${i}`, member_account_ids: [ann.id, eve.id] })).id);
    const messages = spoken.map((chat, i) => ({
      id: 1 + i, account_id: eve.id, chat_type: 'group', peer_account_id: chat, app_id: app.id, sender_account_id: ann.id,
      template_type: 'default', template_id: null, template: { object_type: 'text', text: `message ${i}`, link: {} }, created_at: 1_000 * (i + 1),
    }));
    await h.control('POST', '/state', { talk_messages: messages });

    // Every group-chat id the page reads from the group-chat tables, from the rows it gets back.
    const read = new Set<number>();
    const tables = /\bfrom "?(talk_group_chats|talk_group_chat_members)"?|join "?(talk_group_chats|talk_group_chat_members)"?/i;
    const platform = h.app.platform;
    const db = platform.db;
    const queries = new Map<unknown, boolean>();
    platform.db = db.withPlugin({
      transformQuery(args) {
        queries.set(args.queryId, tables.test(db.getExecutor().compileQuery(args.node, args.queryId).sql));
        return args.node;
      },
      async transformResult(args) {
        if (queries.get(args.queryId)) for (const row of args.result.rows as Record<string, unknown>[]) read.add(Number(row.chat_id ?? row.id));
        return args.result;
      },
    });
    let body: string;
    try {
      const res = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${eve.id}` });
      assert.equal(res.statusCode, 200, res.body);
      body = res.body;
    } finally {
      platform.db = db;
    }
    const shownChats = [...body.matchAll(/<h3 data-chat="g(\d+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(shownChats, [...spoken].reverse().slice(0, 20), 'the 20 latest chats');
    const shownQuiet = (/data-quiet="([^"]*)"/.exec(body)?.[1] ?? '').split(',').filter(Boolean).map(Number);
    assert.deepEqual(shownQuiet, [...quiet].reverse().slice(0, 20), 'the 20 newest quiet group chats');
    assert.match(body, /and more: <code>GET \/_kapibara\/v1\/group_chats\?account_id=/);
    assert.match(body, new RegExp(`<h3 data-chat="g${spoken[29]}">spoken 29 \\(group chat\\)`));
    assert.match(body, /Members: Eve, Ann, Bob/);
    assert.match(body, /quiet 24 \(Ann, Eve\)/);
    const shown = new Set([...shownChats, ...shownQuiet]);
    // Beyond what it shows, the page reads one quiet group chat: the one that says more follow.
    assert.deepEqual([...read].filter((id) => !shown.has(id)), [[...quiet].reverse()[20]], 'no group chat read that the page does not show');
    // Fewer quiet group chats than a page: all of them, and no "and more".
    for (const id of quiet.slice(0, 10)) await h.control('DELETE', `/group_chats/${id}`);
    const fewer = (await h.inject({ method: 'GET', url: `/_kapibara/console/people/${eve.id}` })).body;
    assert.equal(/data-quiet="([^"]*)"/.exec(fewer)?.[1], [...quiet].reverse().slice(0, 15).join(','));
    assert.doesNotMatch(fewer, /and more:/);
    assertIndexed(await plansOf(h.store.db, (d) => quietGroupChats(d, eve.id, 21)), /talk_group_chat_members_account/);
    assertIndexed(await plansOf(h.store.db, (d) => findGroupChats(d, spoken.slice(0, 5))), /sqlite_autoindex_talk_group_chats_1|talk_group_chats_pkey/);
  });

  it('draws the first character a person sees as the avatar placeholder, never half an emoji', async () => {
    const cases: [string, string][] = [
      ['🦫Beaver', '🦫'],
      ['🇰🇷Korea', '🇰🇷'],
      ['👩‍👩‍👧Family', '👩‍👩‍👧'],
      ['Ryan', 'R'],
      ['라이언', '라'],
    ];
    for (const [nickname, initial] of cases) {
      const person = await h.createAccount({ nickname });
      const res = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${person.id}` });
      assert.ok(!res.body.includes('\uFFFD'), nickname);
      assert.ok(res.body.includes(`<h1><span class="avatar">${initial}</span>`), nickname);
      // The drawn picture's URL carries the same initial, and the route takes it.
      const url = avatarUrl('someone', 110, nickname);
      assert.ok(url.endsWith(`?initial=${encodeURIComponent(initial)}`), url);
      assert.equal((await h.inject({ method: 'GET', url })).statusCode, 200, url);
    }
  });

  it('draws the first character of ?initial= when given a word', async () => {
    const png = async (initial: string) => (await h.inject({ method: 'GET', url: `/_kapibara/avatars/ryan_110.png?initial=${encodeURIComponent(initial)}` })).rawPayload;
    assert.deepEqual(await png('Ryan'), await png('R'));
    assert.notDeepEqual(await png('R'), await png(''));
  });

  it('says "+" after the story count only when a person has more stories than shown', async () => {
    const app = await h.createApp({ consent_items: { story_publish: 'optional' } });
    const writer = await h.createAccount({ nickname: 'Writer' });
    const t = await h.token(app, writer);
    const heading = async () => /Kakao Story \(([^)]*)\)/.exec((await h.inject({ method: 'GET', url: `/_kapibara/console/people/${writer.id}` })).body)?.[1];
    for (let i = 1; i <= 19; i++) {
      const posted = await h.kapi('POST', '/v1/api/story/post/note', t.access_token, { content: `note ${i}` });
      assert.equal(posted.statusCode, 200, posted.body);
      if (i === 17) assert.equal(await heading(), '17');
      if (i === 18) assert.equal(await heading(), '18');
    }
    assert.equal(await heading(), '18+');
  });

  it("shows Kapibara's own account pictures on the origin the console was opened on, as the APIs answer them", async () => {
    const moved = await h.createAccount({ nickname: 'Moved', thumbnail_image_url: 'http://localhost:9876/_kapibara/avatars/moved_110.png?initial=M' });
    const other = await h.createAccount({ nickname: 'Other', thumbnail_image_url: 'https://images.example/other.png' });
    for (const url of ['/_kapibara/console', `/_kapibara/console/people/${moved.id}`]) {
      const res = await h.inject({ method: 'GET', url, headers: { host: '127.0.0.1:19600' } });
      assert.equal(res.statusCode, 200);
      assert.ok(res.body.includes('<img src="http://127.0.0.1:19600/_kapibara/avatars/moved_110.png?initial=M"'), url);
      assert.ok(!res.body.includes('localhost:9876'), url);
    }
    const page = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${other.id}` });
    assert.ok(page.body.includes('<img src="https://images.example/other.png"'));
  });
});
