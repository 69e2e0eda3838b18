import { after, before, beforeEach, describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { KapibaraError, startKapibara, type RunningKapibara } from '../src/testing.js';
import { freshPgDatabase, storeKinds } from './helpers/stores.js';

/**
 * kapibara/testing's client for the products' control-plane routes (docs/testing.md): group
 * chats, Kakao Story (stories, comments, moods, the Story profile), Kakao Talk Channels
 * (channels, their apps, relations, customer files, chats), push (settings, devices,
 * inbox), message quotas, the sharing webhook and its calls, Talk settings and
 * multi-profiles, shipping addresses and the expiry sweep. Each method is called against a running Kapibara, on each store, and its answer
 * compared whole with what the route answers; a refusal of each family is thrown as
 * KapibaraError with the route's status and `{error}`.
 */

/** Whole-second UTC, as the control plane writes times. */
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

async function refused(call: Promise<unknown>, status: number, error: string): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof KapibaraError, String(err));
    assert.deepEqual([err.status, err.error], [status, error]);
    return true;
  });
}

for (const kind of storeKinds()) {
  describe(`kapibara/testing: group chats, stories, channels, push, quotas, the sharing webhook, Talk settings and profiles, shipping addresses [${kind}]`, () => {
    let kakao: RunningKapibara;
    let drop: (() => Promise<void>) | undefined;
    before(async () => {
      const database = kind === 'postgres' ? await freshPgDatabase() : undefined;
      drop = database?.drop;
      kakao = await startKapibara({ demo: false, databaseUrl: database?.url });
    });
    after(async () => {
      await kakao?.stop();
      await drop?.();
    });
    beforeEach(() => kakao.control.reset());

    /** Sends a kapi call with a key (`KakaoAK`): a form, or JSON for the customer-file APIs. */
    async function kapi(path: string, key: string, body: Record<string, string> | object, json = false): Promise<unknown> {
      const res = await fetch(`${kakao.url}${path}`, {
        method: 'POST',
        headers: { authorization: `KakaoAK ${key}`, 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
        body: json ? JSON.stringify(body) : new URLSearchParams(body as Record<string, string>).toString(),
      });
      const text = await res.text();
      assert.equal(res.status, 200, `${path}: ${text}`);
      return text ? JSON.parse(text) : undefined;
    }

    it('groupChats: create, get, list (every one, a person’s, a page), messages, delete; an unknown chat is a KapibaraError 404', async () => {
      const c = kakao.control;
      const [ryan, apeach, muzi] = await Promise.all(['Ryan', 'Apeach', 'Muzi'].map((nickname) => c.people.create({ nickname })));
      const dessert = await c.groupChats.create({ title: 'Dessert club', member_account_ids: [ryan.id, apeach.id, muzi.id] });
      assert.deepEqual({ ...dessert, created_at: undefined }, { id: dessert.id, title: 'Dessert club', member_account_ids: [ryan.id, apeach.id, muzi.id], created_at: undefined });
      assert.match(dessert.created_at, TIME);
      const pair = await c.groupChats.create({ title: 'Pair', member_account_ids: [apeach.id, muzi.id] });
      assert.deepEqual(await c.groupChats.get(dessert.id), dessert);

      // Newest first (by time, then id, both descending); a person's; one page, and the next after it.
      const newestFirst = [pair, dessert];
      assert.deepEqual(await c.groupChats.list(), newestFirst);
      assert.deepEqual(await c.groupChats.list({ account_id: ryan.id }), [dessert]);
      const first = await c.groupChats.list({ limit: 1 });
      assert.deepEqual(first, [newestFirst[0]]);
      assert.deepEqual(await c.groupChats.list({ after: first[0].id, limit: 1 }), [newestFirst[1]]);
      assert.deepEqual(await c.groupChats.list({ account_id: muzi.id, after: first[0].id }), [newestFirst[1]]);

      // Messages in the group chat, as its first member holds them (newest first, paged by
      // `before`). They come from the sharer's picker, a browser page: seeded here.
      const app = await c.apps.create();
      const talk_messages = ['one', 'two', 'three'].map((text, i) => ({
        id: 901 + i,
        account_id: ryan.id,
        chat_type: 'group',
        peer_account_id: dessert.id,
        app_id: app.id,
        sender_account_id: apeach.id,
        template_type: 'text',
        template_id: null,
        template: { object_type: 'text', text, link: {} },
        created_at: Date.UTC(2026, 0, 1, 0, 0, i),
      }));
      await c.state.seed({ version: 1, talk_messages });
      const page1 = await c.groupChats.messages(dessert.id, { limit: 2 });
      assert.equal(page1.total_count, 3);
      assert.deepEqual(page1.messages.map((m) => [m.chat_id, m.chat_type, m.template.text]), [
        [`g${dessert.id}`, 'group', 'three'],
        [`g${dessert.id}`, 'group', 'two'],
      ]);
      const page2 = await c.groupChats.messages(dessert.id, { before: page1.next, limit: 2 });
      assert.deepEqual(page2.messages.map((m) => m.template.text), ['one']);
      assert.equal(page2.next, undefined);

      await c.groupChats.delete(pair.id);
      assert.deepEqual(await c.groupChats.list(), [dessert]);
      await refused(c.groupChats.get(pair.id), 404, `group chat ${pair.id} not found`);
      await refused(c.groupChats.delete(pair.id), 404, `group chat ${pair.id} not found`);
      await refused(c.groupChats.messages(pair.id), 404, `group chat ${pair.id} not found`);
      await refused(c.groupChats.list({ after: pair.id }), 400, `after: group chat ${pair.id} not found`);
      await refused(c.groupChats.create({ title: 'Alone', member_account_ids: [ryan.id, ryan.id] }), 400, 'a group chat needs at least 2 different members');
    });

    it('list() without a page follows each page’s Link past the first 1000: a person’s group chats (the filter kept), an app’s devices (a cursor of two fields)', async () => {
      const c = kakao.control;
      const [ryan, apeach, muzi] = await Promise.all(['Ryan', 'Apeach', 'Muzi'].map((nickname) => c.people.create({ nickname })));
      const app = await c.apps.create();
      const chats = Array.from({ length: 1002 }, (_, i) => ({ id: 5000 + i, title: `chat ${i}`, created_at: Date.UTC(2026, 0, 1) + i * 1000 }));
      // Ryan is in all but the newest; the newest is Apeach's and Muzi's only.
      const members = chats.flatMap((chat, i) =>
        (i === chats.length - 1 ? [apeach.id, muzi.id] : [ryan.id, apeach.id]).map((account_id, position) => ({ chat_id: chat.id, account_id, position })),
      );
      const push_tokens = Array.from({ length: 1001 }, (_, i) => ({
        app_id: app.id,
        uuid: String(100 + Math.floor(i / 2)),
        device_id: `device ${i % 2}/${i}`,
        push_type: 'fcm',
        push_token: `token-${i}`,
        created_at: Date.UTC(2026, 0, 1) + i,
        updated_at: Date.UTC(2026, 0, 1) + i,
        expires_at: null,
      }));
      await c.state.seed({ version: 1, talk_group_chats: chats, talk_group_chat_members: members, push_tokens });

      const ryans = await c.groupChats.list({ account_id: ryan.id });
      assert.deepEqual(ryans.map((g) => g.id), chats.slice(0, -1).map((g) => g.id).reverse());
      assert.equal((await c.groupChats.list()).length, 1002);
      const devices = await c.push.tokens(app.id);
      assert.deepEqual(devices.map((d) => d.push_token), push_tokens.map((t) => t.push_token));
    });

    it('stories: the Story profile, a note from the Story app, get, list (every one, a page), comments and moods; refusals are KapibaraErrors', async () => {
      const c = kakao.control;
      const [ryan, apeach] = await Promise.all(['Ryan', 'Apeach'].map((nickname) => c.people.create({ nickname })));

      const profile = await c.stories.profile.get(ryan.id);
      assert.deepEqual(profile, {
        account_id: ryan.id,
        handle: profile.handle,
        permalink: `${kakao.url}/story/${profile.handle}`,
        nickname: null,
        profile_image_url: null,
        thumbnail_url: null,
        bg_image_url: null,
      });
      assert.match(profile.handle, /^\w{7}$/);
      const changed = await c.stories.profile.set(ryan.id, { nickname: 'Ryan on Story', bg_image_url: 'https://example.com/bg.png' });
      assert.deepEqual(changed, { ...profile, nickname: 'Ryan on Story', bg_image_url: 'https://example.com/bg.png' });
      assert.deepEqual(await c.stories.profile.set(ryan.id, { nickname: null }), { ...changed, nickname: null });

      const note = await c.stories.create(ryan.id, { content: 'Written in the Story app' });
      assert.deepEqual(note, {
        id: note.id,
        url: `${kakao.url}/story/${note.id.replace('.', '/')}`,
        media_type: 'NOTE',
        created_at: note.created_at,
        comment_count: 0,
        like_count: 0,
        content: 'Written in the Story app',
        permission: 'PUBLIC',
        account_id: ryan.id,
        app_id: null,
        enable_share: false,
        android_exec_param: null,
        ios_exec_param: null,
        android_market_param: null,
        ios_market_param: null,
        link_info: null,
        comments: [],
        likes: [],
      });
      assert.ok(note.id.startsWith(`${profile.handle}.`));
      assert.match(note.created_at, TIME);
      await c.clock.advance(1); // newer by the clock: stories written in one millisecond are in no set order
      const mine = await c.stories.create(ryan.id, { content: 'Only me', permission: 'ONLY_ME' });

      const comment = await c.stories.comments.add(note.id, { account_id: apeach.id, text: '멋져요' });
      assert.deepEqual(comment, { id: comment.id, story_id: note.id, account_id: apeach.id, text: '멋져요', created_at: comment.created_at });
      assert.match(comment.created_at, TIME);
      assert.deepEqual(await c.stories.moods.set(note.id, apeach.id, 'COOL'), { story_id: note.id, account_id: apeach.id, emotion: 'COOL' });
      const read = await c.stories.get(note.id);
      assert.deepEqual([read.comment_count, read.like_count], [1, 1]);
      assert.deepEqual(read.comments[0], { id: comment.id, account_id: apeach.id, text: '멋져요', created_at: comment.created_at });
      assert.deepEqual(read.likes.map((l) => [l.account_id, l.emotion]), [[apeach.id, 'COOL']]);
      assert.match(read.likes[0].created_at, TIME);

      // Newest first; a page, and the one after it (`after`: a story id).
      const both = await c.stories.list(ryan.id);
      assert.deepEqual(both.map((s) => s.id), [mine.id, note.id]);
      assert.deepEqual(both[1], read);
      const first = await c.stories.list(ryan.id, { limit: 1 });
      assert.deepEqual(first.map((s) => s.id), [mine.id]);
      assert.deepEqual((await c.stories.list(ryan.id, { after: first[0].id, limit: 1 })).map((s) => s.id), [note.id]);
      assert.deepEqual(await c.stories.list(apeach.id), []);

      await c.stories.comments.delete(note.id, comment.id);
      await c.stories.moods.delete(note.id, apeach.id);
      const bare = await c.stories.get(note.id);
      assert.deepEqual([bare.comments, bare.likes, bare.comment_count, bare.like_count], [[], [], 0, 0]);

      await refused(c.stories.get('AAAAAAA.nosuchstory'), 404, 'story AAAAAAA.nosuchstory not found');
      await refused(c.stories.comments.delete(note.id, comment.id), 404, `comment ${comment.id} not found on story ${note.id}`);
      await refused(c.stories.moods.delete(note.id, apeach.id), 404, `account ${apeach.id} left no mood on story ${note.id}`);
      await refused(c.stories.comments.add(mine.id, { account_id: apeach.id, text: 'hi' }), 409, 'the story is private (ONLY_ME): only its owner sees it');
      await refused(c.stories.profile.get(424242), 404, 'account 424242 not found');
      await refused(c.stories.list(ryan.id, { after: 'not a story id' }), 400, 'after: not a story id is no story id');
      // @ts-expect-error: an emotion Kakao Story does not have
      await refused(c.stories.moods.set(note.id, apeach.id, 'ANGRY'), 400, 'invalid body: emotion must be one of LIKE, COOL, HAPPY, SAD, CHEER_UP, NOT_DEFINED');
    });

    it('channels: create, get, list (every one, a page), update, link and unlink apps, relations, customer files and chats, delete; refusals are KapibaraErrors', async () => {
      const c = kakao.control;
      const owner = await c.apps.create({ name: 'Shop' });
      const other = await c.apps.create({ name: 'Other' });
      const [ryan, apeach] = await Promise.all(['Ryan', 'Apeach'].map((nickname) => c.people.create({ nickname })));

      const shop = await c.channels.create({ app_id: owner.id, name: 'Shop news', search_id: '@shopnews', public_id: '_shopnew' });
      assert.deepEqual(shop, {
        id: shop.id,
        public_id: '_shopnew',
        search_id: '@shopnews',
        name: 'Shop news',
        profile_image_url: null,
        owner_app_id: owner.id,
        app_ids: [owner.id],
        banned: false,
        created_at: shop.created_at,
        friend_url: `${kakao.url}/_shopnew/friend`,
        chat_url: `${kakao.url}/_shopnew/chat`,
      });
      assert.match(shop.created_at, TIME);
      const second = await c.channels.create({ app_id: other.id, name: 'Second', search_id: '@second' });
      assert.match(second.public_id, /^_[A-Za-z]{6}$/);
      assert.deepEqual(await c.channels.get('_shopnew'), shop);

      // Oldest first; a page, and the one after it (`after`: a channel id).
      assert.deepEqual((await c.channels.list()).map((ch) => ch.id), [shop.id, second.id]);
      assert.deepEqual((await c.channels.list({ limit: 1 })).map((ch) => ch.id), [shop.id]);
      assert.deepEqual((await c.channels.list({ after: shop.id, limit: 1 })).map((ch) => ch.id), [second.id]);

      const renamed = await c.channels.update('_shopnew', { name: 'Shop', banned: true });
      assert.deepEqual(renamed, { ...shop, name: 'Shop', banned: true });
      const linked = await c.channels.link('_shopnew', other.id);
      assert.deepEqual(linked.app_ids.sort((a, b) => a - b), [owner.id, other.id].sort((a, b) => a - b));
      await c.channels.unlink('_shopnew', other.id);
      assert.deepEqual((await c.channels.get('_shopnew')).app_ids, [owner.id]);
      await c.channels.update('_shopnew', { banned: false });

      // Relations: NONE until set; by account id, a page at a time (`after`: an account id).
      assert.deepEqual(await c.channels.relations.get('_shopnew', ryan.id), { account_id: ryan.id, relation: 'NONE' });
      const added = await c.channels.relations.set('_shopnew', ryan.id, 'ADDED');
      assert.deepEqual(added, { account_id: ryan.id, relation: 'ADDED', created_at: added.created_at, updated_at: added.updated_at });
      assert.match(added.updated_at!, TIME);
      const blocked = await c.channels.relations.set('_shopnew', apeach.id, 'BLOCKED');
      assert.deepEqual(await c.channels.relations.get('_shopnew', apeach.id), blocked);
      const byAccount = [added, blocked].sort((a, b) => a.account_id - b.account_id);
      assert.deepEqual(await c.channels.relations.list('_shopnew'), byAccount);
      assert.deepEqual(await c.channels.relations.list('_shopnew', { limit: 1 }), [byAccount[0]]);
      assert.deepEqual(await c.channels.relations.list('_shopnew', { after: byAccount[0].account_id }), [byAccount[1]]);
      assert.deepEqual(await c.channels.relations.set('_shopnew', apeach.id, 'NONE'), { account_id: apeach.id, relation: 'NONE' });
      assert.deepEqual(await c.channels.relations.list('_shopnew'), [added]);

      // Customer files, as the app made them (kapi), with their first customers.
      const { user_id: ryanUser } = await c.consents.set(owner.id, ryan.id, {});
      const { file_id: fileId } = (await kapi('/v1/talkchannel/create/target_user_file', owner.admin_key, { channel_public_id: '_shopnew', file_name: 'VIP', schema: { tier: 'string' } }, true)) as { file_id: number };
      await kapi('/v1/talkchannel/update/target_users', owner.admin_key, { file_id: fileId, channel_public_id: '_shopnew', user_type: 'app', users: [{ id: String(ryanUser), field: { tier: 'gold' } }] }, true);
      const files = await c.channels.files('_shopnew');
      assert.deepEqual(files, [
        {
          file_id: fileId,
          file_name: 'VIP',
          schema: { tier: 'string' },
          user_count: 1,
          created_at: files[0].created_at,
          updated_at: files[0].updated_at,
          users: [{ user_type: 'app', id: String(ryanUser), field: { tier: 'gold' }, updated_at: files[0].users[0].updated_at }],
        },
      ]);
      assert.deepEqual((await c.channels.files('_shopnew', { users: 0 }))[0].users, []);

      // What people wrote on the chat page (seeded here: the page needs a browser's session).
      await c.state.seed({ version: 1, channel_chat_messages: [{ id: 77, channel_id: shop.id, account_id: ryan.id, text: 'Is it open today?', created_at: Date.UTC(2026, 0, 1) }] });
      assert.deepEqual(await c.channels.chats('_shopnew'), [{ id: 77, account_id: ryan.id, text: 'Is it open today?', created_at: '2026-01-01T00:00:00Z' }]);

      await refused(c.channels.unlink('_shopnew', owner.id), 409, `app ${owner.id} owns channel _shopnew: delete the channel instead`);
      await refused(c.channels.unlink('_shopnew', other.id), 404, `channel _shopnew is not linked to app ${other.id}`);
      await c.channels.delete('_shopnew');
      assert.deepEqual((await c.channels.list()).map((ch) => ch.id), [second.id]);
      await refused(c.channels.get('_shopnew'), 404, 'channel _shopnew not found');
      await refused(c.channels.relations.list('_shopnew'), 404, 'channel _shopnew not found');
      await refused(c.channels.create({ app_id: other.id, name: 'Taken', search_id: '@taken', public_id: second.public_id }), 409, 'channel already exists (a key, id or email is taken)');
      // @ts-expect-error: a relation Kakao Talk Channels do not have
      await refused(c.channels.relations.set(second.public_id, ryan.id, 'FOLLOWED'), 400, 'invalid body: relation must be one of ADDED, BLOCKED, NONE');
    });

    it('push: settings, devices (every one, a page) and the inbox; an unknown app is a KapibaraError 404', async () => {
      const c = kakao.control;
      const app = await c.apps.create({ name: 'Push shop' });
      assert.deepEqual(await c.push.settings.get(app.id), { token_ttl_days: -1 });
      assert.deepEqual(await c.push.settings.set(app.id, { token_ttl_days: 30 }), { token_ttl_days: 30 });
      assert.deepEqual(await c.push.settings.get(app.id), { token_ttl_days: 30 });

      const devices = [
        { uuid: '1234', device_id: 'phone', push_type: 'fcm', push_token: 'fcm-token-1' },
        { uuid: '1234', device_id: 'tablet', push_type: 'fcm', push_token: 'fcm-token-2' },
        { uuid: '5678', device_id: 'phone', push_type: 'apns', push_token: 'a'.repeat(64) },
      ];
      for (const d of devices) assert.equal(await kapi('/v2/push/register', app.admin_key, d), 30);
      const tokens = await c.push.tokens(app.id);
      assert.deepEqual(
        tokens.map((t) => ({ uuid: t.uuid, device_id: t.device_id, push_type: t.push_type, push_token: t.push_token })),
        devices,
      );
      assert.deepEqual(Object.keys(tokens[0]).sort(), ['created_at', 'device_id', 'expired', 'expires_at', 'push_token', 'push_type', 'updated_at', 'uuid']);
      assert.equal(tokens[0].expired, false);
      assert.match(tokens[0].expires_at!, TIME);
      // A page, and the one after it: `after_uuid` and `after_device_id` name its last device.
      const first = await c.push.tokens(app.id, { limit: 2 });
      assert.deepEqual(first, tokens.slice(0, 2));
      assert.deepEqual(await c.push.tokens(app.id, { after_uuid: first[1].uuid, after_device_id: first[1].device_id }), tokens.slice(2));

      const message = { for_apns: { message: 'hi' }, for_fcm: { notification: { title: 'Order', body: 'Shipped' }, custom_field: { order: '77' } } };
      await kapi('/v2/push/send', app.admin_key, { uuids: JSON.stringify(['1234', '5678']), push_message: JSON.stringify(message) });
      const inbox = await c.push.inbox(app.id, { uuid: '1234', device_id: 'tablet' });
      assert.deepEqual(inbox, [
        {
          id: inbox[0].id,
          uuid: '1234',
          device_id: 'tablet',
          push_type: 'fcm',
          push_token: 'fcm-token-2',
          sent_at: inbox[0].sent_at,
          truncated: false,
          message: message.for_fcm,
          notification: { title: 'Order', body: 'Shipped', silent: false, custom: { order: '77' } },
        },
      ]);
      assert.deepEqual((await c.push.inbox(app.id)).map((d) => [d.uuid, d.device_id]).sort(), [['1234', 'phone'], ['1234', 'tablet'], ['5678', 'phone']]);
      assert.equal((await c.push.inbox(app.id, { limit: 1 })).length, 1);
      assert.deepEqual((await c.push.inbox(app.id, { uuid: '5678' }))[0].notification, { body: 'hi', silent: false, custom: {} });

      await refused(c.push.tokens(424242), 404, 'app 424242 not found');
      await refused(c.push.settings.get(424242), 404, 'app 424242 not found');
      await refused(c.push.inbox(424242), 404, 'app 424242 not found');
      await refused(c.push.tokens(app.id, { after_uuid: '1234' }), 400, 'after_device_id: needed with after_uuid');
      await refused(c.push.settings.set(app.id, { token_ttl_days: 4000 }), 400, 'invalid body: token_ttl_days must be <= 3650');
    });

    it('messageQuotas: get (the defaults), set (some, null back to the default); an unknown app is a KapibaraError 404', async () => {
      const c = kakao.control;
      const app = await c.apps.create();
      const defaults = { sender_daily: 100, sender_monthly: null, receiver_daily: 100, pair_daily: 20 };
      assert.deepEqual(await c.messageQuotas.get(app.id), defaults);
      const set = await c.messageQuotas.set(app.id, { sender_daily: 3, sender_monthly: 50 });
      assert.deepEqual(set, { ...defaults, sender_daily: 3, sender_monthly: 50 });
      assert.deepEqual(await c.messageQuotas.get(app.id), set);
      assert.deepEqual(await c.messageQuotas.set(app.id, { sender_daily: null, pair_daily: 0 }), { ...defaults, sender_monthly: 50, pair_daily: 0 });

      await refused(c.messageQuotas.get(424242), 404, 'app 424242 not found');
      await refused(c.messageQuotas.set(424242, {}), 404, 'app 424242 not found');
      await refused(c.messageQuotas.set(app.id, { receiver_daily: -1 }), 400, 'invalid body: receiver_daily must be >= 0');
    });

    it('sharingWebhook: set, get, calls (every one, the latest few), delete; none set is a KapibaraError 404', async () => {
      const c = kakao.control;
      const app = await c.apps.create();
      const ryan = await c.people.create({ nickname: 'Ryan' });
      await refused(c.sharingWebhook.get(app.id), 404, `app ${app.id} has no sharing webhook`);
      const hook = await c.sharingWebhook.set(app.id, { url: 'http://127.0.0.1:9441/kakao/shared', method: 'POST' });
      assert.deepEqual(hook, { url: 'http://127.0.0.1:9441/kakao/shared', method: 'POST', updated_at: hook.updated_at });
      assert.match(hook.updated_at, TIME);
      assert.deepEqual(await c.sharingWebhook.get(app.id), hook);
      assert.deepEqual(await c.sharingWebhook.calls(app.id), { calls: [] });

      // The calls a share made (seeded here: a share needs the sharer's picker, a browser page).
      const sharing_webhook_calls = [200, null].map((status, i) => ({
        id: 801 + i,
        app_id: app.id,
        account_id: ryan.id,
        url: hook.url,
        method: 'POST',
        resource_id: `resource-${i}`,
        params: { CHAT_TYPE: 'MemoChat', order: 'A-17' },
        status,
        error: status === null ? 'request failed: ECONNREFUSED' : null,
        duration_ms: 5 + i,
        called_at: Date.UTC(2026, 0, 1, 0, 0, i),
      }));
      await c.state.seed({ version: 1, sharing_webhook_calls });
      const calls = await c.sharingWebhook.calls(app.id);
      assert.deepEqual(calls, {
        calls: sharing_webhook_calls.reverse().map((call) => {
          const { app_id, ...rest } = call;
          assert.equal(app_id, app.id);
          return { ...rest, called_at: new Date(call.called_at).toISOString().replace('.000', '') };
        }),
      });
      assert.deepEqual(await c.sharingWebhook.calls(app.id, { limit: 1 }), { calls: calls.calls.slice(0, 1) });

      await c.sharingWebhook.delete(app.id);
      await refused(c.sharingWebhook.get(app.id), 404, `app ${app.id} has no sharing webhook`);
      await refused(c.sharingWebhook.delete(app.id), 404, `app ${app.id} has no sharing webhook`);
      await refused(c.sharingWebhook.calls(424242), 404, 'app 424242 not found');
      await refused(c.sharingWebhook.set(app.id, { url: 'ftp://example.com/x', method: 'GET' }), 400, 'url: must be an http or https URL');
      // @ts-expect-error: a method the webhook setting does not have
      await refused(c.sharingWebhook.set(app.id, { url: hook.url, method: 'PUT' }), 400, 'invalid body: method must be GET or POST');
    });

    it('talk.settings (get, set, update) and talk.profiles (create, list, update, delete); refusals are KapibaraErrors', async () => {
      const c = kakao.control;
      const [ryan, apeach, muzi] = await Promise.all(['Ryan', 'Apeach', 'Muzi'].map((nickname) => c.people.create({ nickname })));
      const initial = await c.talk.settings.get(ryan.id);
      assert.deepEqual(initial, { account_id: ryan.id, messages_blocked: false, country_iso: initial.country_iso, multi_profiles: [] });
      const blocked = await c.talk.settings.set(ryan.id, { messages_blocked: true, country_iso: 'JP' });
      assert.deepEqual(blocked, { ...initial, messages_blocked: true, country_iso: 'JP' });
      // Only the fields given change.
      assert.deepEqual(await c.talk.settings.update(ryan.id, { country_iso: null }), { ...blocked, country_iso: null });
      assert.deepEqual(await c.talk.settings.get(ryan.id), { ...blocked, country_iso: null });

      const work = await c.talk.profiles.create(ryan.id, { nickname: 'Ryan at work', profile_image_url: 'https://example.com/work.png', shown_to: [apeach.id] });
      assert.deepEqual(work, {
        id: work.id,
        account_id: ryan.id,
        nickname: 'Ryan at work',
        profile_image_url: 'https://example.com/work.png',
        thumbnail_image_url: null,
        shown_to: [apeach.id],
        created_at: work.created_at,
      });
      assert.match(work.created_at, TIME);
      assert.deepEqual(await c.talk.profiles.list(ryan.id), [work]);
      assert.deepEqual((await c.talk.settings.get(ryan.id)).multi_profiles, [work]);
      const changed = await c.talk.profiles.update(ryan.id, work.id, { nickname: 'Ryan (work)', shown_to: [apeach.id, muzi.id] });
      assert.deepEqual(changed, { ...work, nickname: 'Ryan (work)', shown_to: [apeach.id, muzi.id] });
      await c.talk.profiles.delete(ryan.id, work.id);
      assert.deepEqual(await c.talk.profiles.list(ryan.id), []);

      await refused(c.talk.settings.get(424242), 404, 'account 424242 not found');
      await refused(c.talk.settings.set(ryan.id, { country_iso: 'jp' }), 400, 'invalid body: country_iso must match pattern "^[A-Z]{2}$"');
      await refused(c.talk.profiles.list(424242), 404, 'account 424242 not found');
      await refused(c.talk.profiles.create(ryan.id, { shown_to: [apeach.id] }), 400, 'nickname is required');
      await refused(c.talk.profiles.create(ryan.id, { nickname: 'Me', shown_to: [ryan.id] }), 400, 'a person does not show a multi-profile to themselves');
      await refused(c.talk.profiles.update(ryan.id, work.id, { nickname: 'Gone' }), 404, `multi-profile ${work.id} of account ${ryan.id} not found`);
      await refused(c.talk.profiles.delete(ryan.id, work.id), 404, `multi-profile ${work.id} of account ${ryan.id} not found`);
    });

    it('shippingAddresses: add answers the address as stored (defaults filled in, times ISO), list and delete; refusals are KapibaraErrors', async () => {
      const c = kakao.control;
      const ryan = await c.people.create({ nickname: 'Ryan' });
      const home = await c.shippingAddresses.add(ryan.id, { id: 3001, name: 'Home', is_default: true, base_address: 'Seoul, Gangnam-gu 1', zip_code: '06236', updated_at: '2026-01-01T00:00:00Z' });
      assert.deepEqual(home, {
        id: 3001,
        account_id: ryan.id,
        name: 'Home',
        is_default: true,
        type: 'NEW',
        base_address: 'Seoul, Gangnam-gu 1',
        detail_address: null,
        receiver_name: null,
        receiver_phone_number1: null,
        receiver_phone_number2: null,
        zone_number: null,
        zip_code: '06236',
        updated_at: '2026-01-01T00:00:00Z',
      });
      const work = await c.shippingAddresses.add(ryan.id, { name: 'Work', type: 'OLD', base_address: 'Pangyo 2', receiver_name: 'Ryan' });
      assert.deepEqual([work.is_default, work.type, work.receiver_name, work.account_id], [false, 'OLD', 'Ryan', ryan.id]);
      assert.match(work.updated_at, TIME);

      await refused(c.shippingAddresses.add(424242, { name: 'Home', base_address: 'Seoul' }), 404, 'account 424242 not found');
      await refused(c.shippingAddresses.add(ryan.id, { id: 3001, name: 'Again', base_address: 'Seoul' }), 409, 'shipping address already exists (a key, id or email is taken)');
      await refused(c.shippingAddresses.add(ryan.id, { name: 'When', base_address: 'Seoul', updated_at: '10000-01-01T00:00:00Z' }), 400, 'invalid body: updated_at must match format "date-time"');

      // list: the default first, then the newest; delete: one at a time, an unknown one named.
      assert.deepEqual(await c.shippingAddresses.list(ryan.id), [home, work]);
      assert.equal(await c.shippingAddresses.delete(ryan.id, home.id), undefined);
      assert.deepEqual(await c.shippingAddresses.list(ryan.id), [work]);
      await refused(c.shippingAddresses.delete(ryan.id, home.id), 404, `account ${ryan.id} has no shipping address ${home.id}`);
      await refused(c.shippingAddresses.list(424242), 404, 'account 424242 not found');
    });

    it('sweepExpired: what the sweep removed, judged by the platform clock; reset() moves the clock back', async () => {
      const c = kakao.control;
      const app = await c.apps.create();
      const ryan = await c.people.create({ nickname: 'Ryan' });
      await c.tokens(app.id, ryan.id);
      /** A sweep, and that it removed what expired a day before the platform clock's time of the call. */
      async function sweep() {
        const { offset_ms } = await c.clock.get();
        const before = Date.now() + offset_ms;
        const answer = await c.sweepExpired();
        const after = Date.now() + offset_ms;
        const cutoff = Date.parse(answer.expired_before);
        assert.ok(before - 86_400_000 <= cutoff && cutoff <= after - 86_400_000, `${answer.expired_before}: not a day before the call`);
        return answer;
      }
      const nothing = await sweep();
      assert.deepEqual(nothing, { removed: {}, expired_before: nothing.expired_before });

      await c.clock.advance(3 * 86_400); // the access token (12 hours) expired more than a day ago
      const swept = await sweep();
      assert.deepEqual(swept, { removed: { access_tokens: 1 }, expired_before: swept.expired_before });
      assert.deepEqual((await sweep()).removed, {});
      assert.deepEqual(await c.reset(), { reset: true });
      assert.equal((await c.clock.get()).offset_ms, 0);
    });
  });
}
