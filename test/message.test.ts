import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { assertApiError, forEachStore, type TestApp } from './helpers/harness.js';
import { afterQuery, beforeInsertInto, whileDeleting } from './helpers/deletes.js';
import { member, messagesOf, talkApp, type Member } from './talk-helpers.js';

const TEXT = (text: string) => ({ object_type: 'text', text, link: { web_url: 'http://localhost:3000/a', mobile_web_url: 'http://localhost:3000/a' } });

forEachStore('Send to me (memo)', (h) => {
  it('delivers to the memo chat; the control plane lists chats and messages newest first, paged', async () => {
    const app = await talkApp(h);
    const me = await member(h, app, { nickname: 'Me' });
    for (const n of [1, 2, 3]) {
      const res = await h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: TEXT(`메시지 ${n}`) });
      assert.deepEqual(res.json(), { result_code: 0 });
      await h.advanceClock(1);
    }
    const chats = await h.control('GET', `/accounts/${me.id}/chats`);
    assert.equal(chats.total_count, 1);
    assert.equal(chats.chats[0].id, 'memo');
    assert.equal(chats.chats[0].type, 'memo');
    assert.equal(chats.chats[0].peer_account_id, me.id);
    const page1 = await messagesOf(h, me, 'memo', '?limit=2');
    assert.equal(page1.total_count, 3);
    assert.deepEqual(page1.messages.map((m: any) => m.template.text), ['메시지 3', '메시지 2']);
    const page2 = await messagesOf(h, me, 'memo', '?offset=2&limit=2');
    assert.deepEqual(page2.messages.map((m: any) => m.template.text), ['메시지 1']);
    const m = page2.messages[0];
    assert.equal(m.app_id, app.id);
    assert.equal(m.sender_account_id, me.id);
    assert.equal(m.chat_id, 'memo');
    assert.equal(m.template_type, 'text');
    assert.match(m.sent_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Date.parse(page1.messages[0].sent_at) > Date.parse(m.sent_at));
  });

  it('a template_id past 2^53 is an invalid parameter (-2) naming it, never a 500', async () => {
    // Found on PostgreSQL: the id reached the database as a bigint out of range.
    const app = await talkApp(h);
    const me = await member(h, app);
    for (const [path, fields] of [
      ['/v2/api/talk/memo/send', { template_id: '99999999999999999999' }],
      ['/v2/api/talk/memo/scrap/send', { request_url: 'http://localhost:3000/', template_id: '99999999999999999999' }],
    ] as const) {
      assertApiError(await h.kapi('POST', path, me.token, fields), 400, -2, /^invalid template_id: /);
    }
    assert.equal((await messagesOf(h, me)).total_count, 0);
  });

  it('answers -402 without talk_message (api_type, required and allowed scopes), -501, -401', async () => {
    const app = await talkApp(h);
    const me = await member(h, app, {}, ['profile_nickname', 'account_email']);
    for (const [path, apiType, fields] of [
      ['/v2/api/talk/memo/default/send', 'TALK_MEMO_DEFAULT_SEND', { template_object: TEXT('x') }],
      ['/v2/api/talk/memo/send', 'TALK_MEMO_SEND', { template_id: 1 }],
      ['/v2/api/talk/memo/scrap/send', 'TALK_MEMO_SCRAP_SEND', { request_url: 'http://localhost:3000/' }],
    ] as const) {
      const res = await h.kapi('POST', path, me.token, fields);
      assertApiError(res, 403, -402);
      assert.deepEqual(res.json(), {
        msg: 'insufficient scopes.',
        code: -402,
        api_type: apiType,
        required_scopes: ['talk_message'],
        allowed_scopes: ['profile_nickname', 'account_email'],
      });
    }
    const noTalk = await member(h, app, { talk_user: false });
    assertApiError(await h.kapi('POST', '/v2/api/talk/memo/default/send', noTalk.token, { template_object: TEXT('x') }), 400, -501);
    assertApiError(await h.kapi('POST', '/v2/api/talk/memo/default/send', 'expired-or-unknown', { template_object: TEXT('x') }), 401, -401);
    assert.equal((await messagesOf(h, me)).total_count, 0);
  });

  it('stores every one of many concurrent sends (group commit), from several people', async () => {
    const app = await talkApp(h);
    const people = [await member(h, app), await member(h, app), await member(h, app)];
    const sends = [];
    for (let i = 0; i < 60; i++) {
      const p = people[i % 3];
      sends.push(h.kapi('POST', '/v2/api/talk/memo/default/send', p.token, { template_object: TEXT(`m${i}`) }));
    }
    for (const res of await Promise.all(sends)) assert.deepEqual(res.json(), { result_code: 0 });
    for (const [n, p] of people.entries()) {
      const { total_count, messages } = await messagesOf(h, p, 'memo', '?limit=100');
      assert.equal(total_count, 20);
      // Concurrent requests have no order among themselves: every one is there, once.
      const expected = Array.from({ length: 20 }, (_, k) => `m${3 * k + n}`).sort();
      assert.deepEqual(messages.map((m: any) => m.template.text).sort(), expected);
    }
  });

  it('answers -3 when the app turned the consent item off', async () => {
    const app = await h.createApp({ name: 'Shop', consent_items: { profile_nickname: 'required', talk_message: 'disabled' } });
    const me = await member(h, app);
    const res = await h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: TEXT('x') });
    assertApiError(res, 403, -3);
    assert.deepEqual(res.json(), { msg: '[Shop] App disabled [talk_message] scopes for [TALK_MEMO_DEFAULT_SEND] API on developers.kakao.com. Enable it first.', code: -3 });
  });

  it('accepts parameters in the query string and JSON-valued fields', async () => {
    const app = await talkApp(h);
    const me = await member(h, app);
    const res = await h.inject({
      method: 'POST',
      url: `/v2/api/talk/memo/default/send?template_object=${encodeURIComponent(JSON.stringify(TEXT('query')))}`,
      headers: { authorization: `Bearer ${me.token}` },
    });
    assert.deepEqual(res.json(), { result_code: 0 }, res.body);
  });
});

forEachStore('Send to friends', (h) => {
  async function circle(appBody: Record<string, unknown> = {}) {
    const app = await talkApp(h, appBody);
    const me = await member(h, app, { nickname: 'Me' });
    const ryan = await member(h, app, { nickname: 'Ryan' });
    const apeach = await member(h, app, { nickname: 'Apeach' });
    await h.befriend(me, ryan);
    await h.befriend(me, apeach);
    return { app, me, ryan, apeach };
  }
  const send = (from: Member, uuids: unknown, path = '/v1/api/talk/friends/message/default/send', extra: Record<string, unknown> = { template_object: TEXT('안녕') }) =>
    h.kapi('POST', path, from.token, { receiver_uuids: typeof uuids === 'string' ? uuids : JSON.stringify(uuids), ...(extra as Record<string, string>) });

  it('sends a default template to friends: successful_receiver_uuids, a 1:1 chat on both sides', async () => {
    const { me, ryan, apeach } = await circle();
    const res = await send(me, [ryan.uuid, apeach.uuid]);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { successful_receiver_uuids: [ryan.uuid, apeach.uuid] });
    const mine = await h.control('GET', `/accounts/${me.id}/chats`);
    assert.deepEqual(mine.chats.map((c: any) => c.id).sort(), [String(ryan.id), String(apeach.id)].sort());
    const theirs = await messagesOf(h, ryan, String(me.id));
    assert.equal(theirs.total_count, 1);
    assert.equal(theirs.messages[0].sender_account_id, me.id);
    assert.equal(theirs.messages[0].chat_type, 'direct');
    assert.equal(theirs.messages[0].chat_id, String(me.id));
    assert.equal(theirs.messages[0].template.text, '안녕');
    assert.equal((await messagesOf(h, me, String(ryan.id))).messages[0].chat_id, String(ryan.id));
    // A reply lands in the same chat.
    await send(ryan, [me.uuid]);
    assert.equal((await messagesOf(h, me, String(ryan.id))).total_count, 2);
  });

  it('reports partial success with failure_info grouped by code; total failure is an error', async () => {
    const { app, me, ryan, apeach } = await circle();
    const stranger = await member(h, app, { nickname: 'Stranger' });
    const blocked = await member(h, app, { nickname: 'Blocked' });
    await h.befriend(me, blocked);
    await h.control('PUT', `/accounts/${blocked.id}/talk`, { messages_blocked: true });
    const res = await send(me, [ryan.uuid, stranger.uuid, blocked.uuid, apeach.uuid]);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      successful_receiver_uuids: [ryan.uuid, apeach.uuid],
      failure_info: [
        { code: -502, msg: 'the receiver is not a friend of the sender in this app.', receiver_uuids: [stranger.uuid] },
        { code: -530, msg: 'the receiver has blocked messages.', receiver_uuids: [blocked.uuid] },
      ],
    });
    assertApiError(await send(me, [stranger.uuid]), 400, -502, 'not a friend');
    assertApiError(await send(me, [blocked.uuid]), 400, -530, 'blocked');
    // uuids the app never issued, and the sender themselves, fail the whole request (-2).
    const notAllowed = 'Constraints on the parameter [receiver_uuids] are unsatisfied. Not allowed to send a message to some of receivers.';
    assertApiError(await send(me, [ryan.uuid, 'no-such-uuid']), 400, -2, notAllowed);
    const otherApp = await talkApp(h);
    const elsewhere = await member(h, otherApp, { nickname: 'Elsewhere' });
    await h.befriend(me, elsewhere);
    assertApiError(await send(me, [elsewhere.uuid]), 400, -2, notAllowed);
    assertApiError(await send(me, [ryan.uuid, me.uuid]), 400, -2, 'Cannot contain a receiver who is identical to the sender in multicast mode.');
    assert.equal((await messagesOf(h, ryan)).total_count, 1);
    // A friend who has not agreed to `friends` is not visible to the app: -502 too.
    const shy = await member(h, app, { nickname: 'Shy' }, ['profile_nickname']);
    await h.befriend(me, shy);
    assertApiError(await send(me, [shy.uuid]), 400, -502);
    assert.equal((await messagesOf(h, stranger)).total_count, 0);
    assert.equal((await messagesOf(h, blocked)).total_count, 0);
  });

  it('requires talk_message and friends consent (-402 naming the missing ones)', async () => {
    const app = await talkApp(h);
    const onlyFriends = await member(h, app, {}, ['friends']);
    let res = await send(onlyFriends, ['x']);
    assertApiError(res, 403, -402);
    assert.equal(res.json().api_type, 'TALK_MESSAGE_DEFAULT_SEND');
    assert.deepEqual(res.json().required_scopes, ['talk_message']);
    const onlyTalk = await member(h, app, {}, ['talk_message']);
    res = await send(onlyTalk, ['x'], '/v1/api/talk/friends/message/send', { template_id: 1 });
    assertApiError(res, 403, -402);
    assert.equal(res.json().api_type, 'TALK_MESSAGE_SEND');
    assert.deepEqual(res.json().required_scopes, ['friends']);
    const none = await member(h, app, {}, ['profile_nickname']);
    res = await send(none, ['x'], '/v1/api/talk/friends/message/scrap/send', { request_url: 'http://localhost:3000/' });
    assert.equal(res.json().api_type, 'TALK_MESSAGE_SCRAP_SEND');
    assert.deepEqual(res.json().required_scopes, ['talk_message', 'friends']);
  });

  it('rejects malformed receiver_uuids with -2', async () => {
    const { me, ryan } = await circle();
    const res = await h.kapi('POST', '/v1/api/talk/friends/message/default/send', me.token, { template_object: TEXT('x') });
    assert.deepEqual(res.json(), { msg: 'The Parameter [receiver_uuids] cannot be null.', code: -2 });
    assertApiError(await send(me, '[]'), 400, -2, 'The Parameter [receiver_uuids] cannot be empty.');
    const invalid = 'Constraints on the parameter [receiver_uuids] are unsatisfied. The input receiver id(s) is invalid format.';
    assertApiError(await send(me, '["a",'), 400, -2, invalid);
    assertApiError(await send(me, ryan.uuid), 400, -2, invalid);
    assertApiError(await send(me, '[1,2]'), 400, -2, invalid);
    assertApiError(await send(me, ['a', 'b', 'c', 'd', 'e', 'f']), 400, -2, 'At most 5 receivers');
    assertApiError(await send(me, [ryan.uuid], undefined, { template_object: '{}' }), 400, -2, 'template_object.object_type');
    assert.equal((await messagesOf(h, ryan)).total_count, 0);
  });

  it('sends custom templates to friends', async () => {
    const { app, me, ryan } = await circle();
    const t = await h.control('POST', `/apps/${app.id}/templates`, { template: { ...TEXT('${NAME}님 안녕하세요'), object_type: 'text' } });
    const res = await send(me, [ryan.uuid], '/v1/api/talk/friends/message/send', { template_id: t.id, template_args: JSON.stringify({ NAME: 'Ryan' }) });
    assert.deepEqual(res.json(), { successful_receiver_uuids: [ryan.uuid] }, res.body);
    const [m] = (await messagesOf(h, ryan, String(me.id))).messages;
    assert.equal(m.template.text, 'Ryan님 안녕하세요');
    assert.equal(m.template_id, t.id);
  });

  async function setQuotas(app: TestApp, quotas: Record<string, number | null>) {
    return h.control('PUT', `/apps/${app.id}/message_quotas`, quotas);
  }

  it('has Kakao default quotas, configurable per app', async () => {
    const { app } = await circle();
    assert.deepEqual(await h.control('GET', `/apps/${app.id}/message_quotas`), { sender_daily: 100, sender_monthly: null, receiver_daily: 100, pair_daily: 20 });
    assert.deepEqual(await setQuotas(app, { sender_daily: 5, sender_monthly: 50 }), { sender_daily: 5, sender_monthly: 50, receiver_daily: 100, pair_daily: 20 });
    assert.deepEqual(await setQuotas(app, { sender_daily: null }), { sender_daily: 100, sender_monthly: 50, receiver_daily: 100, pair_daily: 20 });
  });

  it('enforces the sender daily quota (-532) until the next day (KST) on the platform clock', async () => {
    const { app, me, ryan, apeach } = await circle();
    await setQuotas(app, { sender_daily: 3 });
    await h.control('POST', '/clock', { now: '2026-03-10T10:00:00Z' }); // 19:00 KST
    assert.deepEqual((await send(me, [ryan.uuid, apeach.uuid])).json(), { successful_receiver_uuids: [ryan.uuid, apeach.uuid] });
    const res = await send(me, [ryan.uuid, apeach.uuid]);
    assert.deepEqual(res.json(), {
      successful_receiver_uuids: [ryan.uuid],
      failure_info: [{ code: -532, msg: "exceeded the sender's daily quota for sending messages.", receiver_uuids: [apeach.uuid] }],
    });
    assertApiError(await send(me, [ryan.uuid]), 400, -532);
    await h.control('POST', '/clock', { now: '2026-03-10T14:59:00Z' }); // 23:59 KST: same day
    assertApiError(await send(me, [ryan.uuid]), 400, -532);
    await h.control('POST', '/clock', { now: '2026-03-10T15:00:00Z' }); // midnight KST
    assert.equal((await send(me, [ryan.uuid])).statusCode, 200);
    // Another app has its own quota.
    const other = await talkApp(h);
    const me2 = await member(h, other, {});
    const r2 = await member(h, other, {});
    await h.befriend(me2, r2);
    assert.equal((await send(me2, [r2.uuid])).statusCode, 200);
  });

  it('counts concurrent sends exactly: a quota is never overshot', async () => {
    const { app, me, ryan, apeach } = await circle();
    await setQuotas(app, { sender_daily: 5, pair_daily: 3 });
    const sends = await Promise.all(Array.from({ length: 12 }, (_, i) => send(me, [i % 2 ? ryan.uuid : apeach.uuid])));
    const bodies = () => sends.map((r) => r.body).join('\n');
    // 5 a day from this sender, at most 3 of them to the same friend.
    assert.equal(sends.filter((r) => r.statusCode === 200).length, 5, bodies());
    for (const r of sends) if (r.statusCode !== 200) assert.ok([-532, -536].includes(r.json().code), r.body);
    const toRyan = (await messagesOf(h, ryan, String(me.id))).total_count;
    const toApeach = (await messagesOf(h, apeach, String(me.id))).total_count;
    assert.equal(toRyan + toApeach, 5);
    assert.ok(toRyan <= 3 && toApeach <= 3, `${toRyan} + ${toApeach}`);
    // Refused sends left no count behind: one more a day lets exactly one more through.
    await setQuotas(app, { sender_daily: 6 });
    const more = await Promise.all([ryan, apeach, ryan, apeach].map((r) => send(me, [r.uuid])));
    assert.equal(more.filter((r) => r.statusCode === 200).length, 1, more.map((r) => r.body).join('\n'));
  });

  it('enforces the receiver daily (-533), pair daily (-536) and sender monthly (-531) quotas', async () => {
    const { app, me, ryan, apeach } = await circle();
    const muzi = await member(h, app, { nickname: 'Muzi' });
    await h.befriend(muzi, ryan);
    await h.befriend(me, muzi);
    await h.control('POST', '/clock', { now: '2026-03-10T01:00:00Z' });
    await setQuotas(app, { receiver_daily: 1 });
    assert.equal((await send(me, [ryan.uuid])).statusCode, 200);
    assertApiError(await send(muzi, [ryan.uuid]), 400, -533, "receiver's daily quota");

    await setQuotas(app, { receiver_daily: null, pair_daily: 1 });
    assertApiError(await send(me, [ryan.uuid]), 400, -536, 'between this sender and receiver');
    assert.deepEqual((await send(me, [apeach.uuid])).json(), { successful_receiver_uuids: [apeach.uuid] });
    assert.equal((await send(muzi, [ryan.uuid])).statusCode, 200);
    await h.advanceClock(24 * 3600);
    assert.equal((await send(me, [ryan.uuid])).statusCode, 200);

    await setQuotas(app, { pair_daily: null, sender_monthly: 4 });
    assert.equal((await send(me, [muzi.uuid])).statusCode, 200); // the 4th this month
    assertApiError(await send(me, [ryan.uuid]), 400, -531, 'monthly quota');
    await h.advanceClock(24 * 3600);
    assertApiError(await send(me, [ryan.uuid]), 400, -531);
    await h.control('POST', '/clock', { now: '2026-03-31T15:00:00Z' }); // April 1st, KST
    assert.equal((await send(me, [ryan.uuid])).statusCode, 200);
    // Memo messages are not counted against friend quotas.
    assert.deepEqual((await h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: TEXT('memo') })).json(), { result_code: 0 });
  });
});

forEachStore('Message control plane: writes whose app or person is deleted while they are stored', (h) => {
  const template = { object_type: 'text', text: 'hi', link: { web_url: 'http://localhost:3000' } };

  it('a group chat, a template or quotas answer the 404 naming what is gone, as a call after the delete, never a 500', async () => {
    const answers: unknown[] = [];
    const wanted: unknown[] = [];
    const cases = ['group chat', 'template', 'template with id', 'template update', 'quotas'] as const;
    for (const c of cases) {
      const app = await h.createApp({ name: c });
      const a = await h.createAccount({ nickname: 'A' });
      const b = await h.createAccount({ nickname: 'B' });
      const existing = await h.control('POST', `/apps/${app.id}/templates`, { template });
      const remove = () => h.control('DELETE', c === 'group chat' ? `/accounts/${a.id}` : `/apps/${app.id}`);
      // The delete lands after the route's lookups, before its write (a group chat is stored in
      // a transaction, a template updated rather than inserted: right after the last lookup).
      const hold =
        c === 'group chat'
          ? afterQuery(h.store, 'select * from "accounts" where "id" =', remove)
          : c === 'template update'
            ? afterQuery(h.store, 'select * from "talk_templates" where "id" =', remove)
            : beforeInsertInto(h.store, c === 'quotas' ? 'talk_message_quotas' : 'talk_templates', remove);
      const res = await whileDeleting(hold, async () => c === 'group chat' ? await h.inject({ method: 'POST', url: '/_kapibara/v1/group_chats', payload: { title: 'g', member_account_ids: [a.id, b.id] } }) : c === 'template' ? await h.inject({ method: 'POST', url: `/_kapibara/v1/apps/${app.id}/templates`, payload: { template } }) : c === 'template with id' ? await h.inject({ method: 'POST', url: `/_kapibara/v1/apps/${app.id}/templates`, payload: { id: 777, template } }) : c === 'template update' ? await h.inject({ method: 'PUT', url: `/_kapibara/v1/apps/${app.id}/templates/${existing.id}`, payload: { name: 'renamed', template } }) : await h.inject({ method: 'PUT', url: `/_kapibara/v1/apps/${app.id}/message_quotas`, payload: { sender_daily: 5 } }), () => c);
      answers.push([c, hold.held(), res.statusCode, res.json()]);
      wanted.push([c, 1, 404, { error: c === 'group chat' ? `account ${a.id} not found` : `app ${app.id} not found` }]);
    }
    assert.deepEqual(answers, wanted);
  });
});
