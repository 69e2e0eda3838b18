import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { CONTROL_HEADERS, assertApiError, forEachStore, type TestAccount } from './helpers/harness.js';
import { member, talkApp } from './talk-helpers.js';
import { afterQuery, whileDeleting } from './helpers/deletes.js';
import { BUILD_ATTEMPTS } from '../src/products/talk/store.js';

forEachStore('Talk profile', (h) => {
  it('reproduces seed 001: nickName, 640px and 110px images, countryISO; images https only (seed 003)', async () => {
    const app = await talkApp(h);
    const person = await member(h, app, {
      nickname: '홍길동',
      profile_image_url: 'http://xxx.kakao.co.kr/.../aaa.jpg',
      thumbnail_image_url: 'http://xxx.kakao.co.kr/.../bbb.jpg',
    });
    await h.control('PUT', `/accounts/${person.id}/talk`, { country_iso: 'KR' });
    const res = await h.kapi('GET', '/v1/api/talk/profile', person.token);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/json;charset=UTF-8');
    assert.deepEqual(res.json(), {
      id: person.user_id,
      nickName: '홍길동',
      profileImageURL: 'https://xxx.kakao.co.kr/.../aaa.jpg',
      thumbnailURL: 'https://xxx.kakao.co.kr/.../bbb.jpg',
      countryISO: 'KR',
    });
    const secure = await h.kapi('GET', '/v1/api/talk/profile', person.token, { secure_resource: true });
    assert.equal(secure.json().profileImageURL, 'https://xxx.kakao.co.kr/.../aaa.jpg');
    assert.equal(secure.json().thumbnailURL, 'https://xxx.kakao.co.kr/.../bbb.jpg');
  });

  it('reproduces seed 003: fields follow consent, {} without any', async () => {
    const app = await talkApp(h);
    const images = { profile_image_url: 'https://xxx.kakao.co.kr/.../aaa.jpg', thumbnail_image_url: 'https://xxx.kakao.co.kr/.../bbb.jpg' };
    const both = await member(h, app, { nickname: 'Ryan', ...images }, ['profile']);
    assert.deepEqual((await h.kapi('GET', '/v1/api/talk/profile', both.token)).json(), {
      id: both.user_id,
      nickName: 'Ryan',
      profileImageURL: images.profile_image_url,
      thumbnailURL: images.thumbnail_image_url,
    });
    const nick = await member(h, app, { nickname: 'Ryan', ...images }, ['profile_nickname']);
    assert.deepEqual((await h.kapi('GET', '/v1/api/talk/profile', nick.token)).json(), { id: nick.user_id, nickName: 'Ryan' });
    const image = await member(h, app, { nickname: 'Ryan', ...images }, ['profile_image']);
    assert.deepEqual((await h.kapi('GET', '/v1/api/talk/profile', image.token)).json(), {
      id: image.user_id,
      profileImageURL: images.profile_image_url,
      thumbnailURL: images.thumbnail_image_url,
    });
    const none = await member(h, app, { nickname: 'Ryan', ...images }, ['account_email']);
    const res = await h.kapi('GET', '/v1/api/talk/profile', none.token);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {});
  });

  it('answers -501 for a person without Kakao Talk, -401 without a valid token', async () => {
    const app = await talkApp(h);
    const person = await member(h, app, { talk_user: false });
    const res = await h.kapi('GET', '/v1/api/talk/profile', person.token);
    assertApiError(res, 400, -501, 'given account is not connected to any talk user.');
    assert.deepEqual(res.json(), { msg: 'given account is not connected to any talk user.', code: -501 });
    assertApiError(await h.kapi('GET', '/v1/api/talk/profile', 'nope'), 401, -401);
  });
});

forEachStore('Talk friends', (h) => {
  async function friendsOf(me: { token: string }, fields: Record<string, string | number> = {}, headers: Record<string, string> = {}) {
    const query = new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString();
    return h.inject({ method: 'GET', url: `/v1/api/talk/friends${query ? `?${query}` : ''}`, headers: { authorization: `Bearer ${me.token}`, host: 'kapi.kakao.com', ...headers } });
  }
  const names = (res: { json(): any }) => res.json().elements.map((e: { profile_nickname: string }) => e.profile_nickname);

  it('reproduces seed 003: three friends of eleven, favorite first, absolute after_url', async () => {
    const app = await talkApp(h);
    const me = await member(h, app, { nickname: 'Me' });
    const nicknames = ['Apeach', 'Ryan', 'Jordy', 'Muzi', 'Con', 'Frodo', 'Neo', 'Tube', 'Scappy', 'Choonsik', 'Kero'];
    const friends: Record<string, TestAccount & { user_id: number }> = {};
    for (const nickname of nicknames) {
      const f = await member(h, app, { nickname, thumbnail_image_url: `https://xxx.kakao.co.kr/${nickname}.jpg` });
      friends[nickname] = f;
      await h.befriend(me, f, nickname === 'Apeach');
    }
    const res = await friendsOf(me, { limit: 3 });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.total_count, 11);
    assert.equal(body.favorite_count, 1);
    assert.deepEqual(names(res), ['Apeach', 'Choonsik', 'Con']);
    const link = await h.control('GET', `/apps/${app.id}/users/${friends.Apeach.id}`);
    assert.deepEqual(body.elements[0], {
      profile_nickname: 'Apeach',
      profile_thumbnail_image: 'https://xxx.kakao.co.kr/Apeach.jpg',
      id: friends.Apeach.user_id,
      uuid: link.uuid,
      favorite: true,
    });
    assert.equal(body.elements[1].favorite, false);
    assert.equal(body.after_url, 'http://kapi.kakao.com/v1/api/talk/friends?offset=3&limit=3&order=asc');
    assert.equal('before_url' in body, false);

    const next = await friendsOf(me, { offset: 3, limit: 3, order: 'asc' });
    assert.deepEqual(names(next), ['Frodo', 'Jordy', 'Kero']);
    assert.equal(next.json().before_url, 'http://kapi.kakao.com/v1/api/talk/friends?offset=0&limit=3&order=asc');
    assert.equal(next.json().after_url, 'http://kapi.kakao.com/v1/api/talk/friends?offset=6&limit=3&order=asc');
    const last = await friendsOf(me, { offset: 9, limit: 3 });
    assert.deepEqual(names(last), ['Scappy', 'Tube']);
    assert.equal('after_url' in last.json(), false);
    // Default page size is 10.
    assert.equal((await friendsOf(me)).json().elements.length, 10);
  });

  it('a friend deleted while the list is being built: the list as it is after the delete, never a 500', async () => {
    const app = await talkApp(h);
    const me = await member(h, app, { nickname: 'Me' });
    const stays = await member(h, app, { nickname: 'Stays' });
    const goes = await member(h, app, { nickname: 'Goes' });
    for (const f of [stays, goes]) await h.befriend(me, f);
    // The delete lands after the friends were read, before the list is stored (in a transaction).
    const hold = afterQuery(h.store, 'select "f"."friend_account_id"', () => h.control('DELETE', `/accounts/${goes.id}`));
    const res = await whileDeleting(hold, () => friendsOf(me));
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual([names(res), res.json().total_count], [['Stays'], 1]);
  });

  it('friends deleted during every build of the list: after BUILD_ATTEMPTS builds, -7 in the kapi format (never a 500); the next call lists them as after the deletes', async () => {
    const app = await talkApp(h);
    const me = await member(h, app, { nickname: 'Me' });
    const stays = await member(h, app, { nickname: 'Stays' });
    const doomed: TestAccount[] = [];
    for (let i = 0; i < BUILD_ATTEMPTS; i++) doomed.push(await member(h, app, { nickname: `Goes ${i}` }));
    for (const f of [stays, ...doomed]) await h.befriend(me, f);
    // Each build meets another friend deleted after its read, before its list is stored.
    const hold = afterQuery(h.store, 'select "f"."friend_account_id"', (n) => h.control('DELETE', `/accounts/${doomed[n - 1].id}`), BUILD_ATTEMPTS);
    const res = await whileDeleting(hold, () => friendsOf(me), (r) => r.body, BUILD_ATTEMPTS);
    assertApiError(res, 400, -7, 'friends were deleted while the list was being built');
    const again = await friendsOf(me);
    assert.equal(again.statusCode, 200, again.body);
    assert.deepEqual([names(again), again.json().total_count], [['Stays'], 1]);
  });

  it('lists only friends linked to the app who agreed to friends', async () => {
    const app = await talkApp(h);
    const other = await talkApp(h);
    const me = await member(h, app, { nickname: 'Me' });
    const linked = await member(h, app, { nickname: 'Linked' });
    const noConsent = await member(h, app, { nickname: 'NoConsent' }, ['profile_nickname']);
    const elsewhere = await member(h, other, { nickname: 'Elsewhere' });
    const stranger = await member(h, app, { nickname: 'Stranger' });
    for (const f of [linked, noConsent, elsewhere]) await h.befriend(me, f);
    let res = await friendsOf(me);
    assert.deepEqual(names(res), ['Linked']);
    assert.equal(res.json().total_count, 1);
    assert.ok(stranger);
    // Consent given later, and an unlink, show up on the next call.
    await h.control('PUT', `/apps/${app.id}/users/${noConsent.id}`, { scopes: ['friends'] });
    res = await friendsOf(me);
    assert.deepEqual(names(res), ['Linked', 'NoConsent']);
    await h.control('DELETE', `/apps/${app.id}/users/${linked.id}`);
    res = await friendsOf(me);
    assert.deepEqual(names(res), ['NoConsent']);
    // Renames, new friendships and removed ones too.
    await h.control('PATCH', `/accounts/${noConsent.id}`, { nickname: 'Renamed' });
    await h.befriend(me, stranger);
    res = await friendsOf(me);
    assert.deepEqual(names(res), ['Renamed', 'Stranger']);
    await h.inject({ method: 'DELETE', url: '/_kapibara/v1/friendships', payload: { account_id: me.id, friend_account_id: stranger.id } });
    assert.deepEqual(names(await friendsOf(me)), ['Renamed']);
  });

  it('orders mixed-script nicknames in the Korean and English collations, favorites first when asked', async () => {
    const app = await talkApp(h);
    const me = await member(h, app, { nickname: 'Me' });
    const mixed = ['ryan', '가나', '😀smile', '#tag', 'Apeach', '9lives', 'さくら', '다람쥐', '10cm', '_under', 'カタカナ', 'Zed'];
    for (const nickname of mixed) {
      const f = await member(h, app, { nickname });
      await h.befriend(me, f, nickname === 'Zed' || nickname === '다람쥐');
    }
    const korean = ['가나', '다람쥐', '#tag', '_under', '10cm', '9lives', 'Apeach', 'ryan', 'Zed', 'さくら', 'カタカナ', '😀smile'];
    const english = ['#tag', '_under', '10cm', '9lives', 'Apeach', 'ryan', 'Zed', 'さくら', 'カタカナ', '가나', '다람쥐', '😀smile'];
    let res = await friendsOf(me, { limit: 100, friend_order: 'nickname' });
    assert.deepEqual(names(res), korean);
    res = await friendsOf(me, { limit: 100, friend_order: 'nickname', order: 'desc' });
    assert.deepEqual(names(res), [...korean].reverse());
    res = await friendsOf(me, { limit: 100, friend_order: 'nickname' }, { ka: 'sdk/2.7.2 os/javascript sdk_type/javascript lang/en device/MacIntel origin/http%3A%2F%2Flocalhost' });
    assert.deepEqual(names(res), english);
    // Favorites first (the default), the same order inside each group, in both directions.
    res = await friendsOf(me, { limit: 100 });
    assert.deepEqual(names(res), ['다람쥐', 'Zed', ...korean.filter((n) => n !== '다람쥐' && n !== 'Zed')]);
    res = await friendsOf(me, { limit: 100, order: 'desc' });
    assert.deepEqual(names(res), ['Zed', '다람쥐', ...[...korean].reverse().filter((n) => n !== '다람쥐' && n !== 'Zed')]);
    // Pages cut across the favorites/others boundary.
    const pages: string[] = [];
    for (let offset = 0; offset < 12; offset += 5) pages.push(...names(await friendsOf(me, { offset, limit: 5, friend_order: 'favorite' })));
    assert.deepEqual(pages, ['다람쥐', 'Zed', ...korean.filter((n) => n !== '다람쥐' && n !== 'Zed')]);
    res = await friendsOf(me, { offset: 1, limit: 2, friend_order: 'favorite' });
    assert.deepEqual(names(res), ['Zed', '가나']);
    assert.equal(res.json().after_url, 'http://kapi.kakao.com/v1/api/talk/friends?offset=3&limit=2&order=asc&friend_order=favorite');
  });

  it('pages in every order, direction and language add up to the whole list', async () => {
    const app = await talkApp(h);
    const me = await member(h, app, { nickname: 'Me' });
    const nicknames = ['ryan', '가나', '😀smile', '#tag', 'Apeach', '9lives', 'さくら', '다람쥐', '10cm', '_under', 'カタカナ', 'Zed', 'Muzi'];
    for (const [i, nickname] of nicknames.entries()) await h.befriend(me, await member(h, app, { nickname }), i % 3 === 0);
    const en = { ka: 'sdk/2.7.2 os/javascript lang/en' };
    for (const headers of [undefined, en]) {
      for (const friend_order of ['favorite', 'nickname']) {
        for (const order of ['asc', 'desc']) {
          const whole = names(await friendsOf(me, { limit: 100, order, friend_order }, headers));
          assert.equal(whole.length, nicknames.length);
          for (const limit of [1, 4, 5]) {
            const pages: string[] = [];
            for (let offset = 0; offset < nicknames.length; offset += limit) {
              pages.push(...names(await friendsOf(me, { offset, limit, order, friend_order }, headers)));
            }
            assert.deepEqual(pages, whole, `${friend_order} ${order} limit ${limit} ${headers ? 'en' : 'ko'}`);
          }
        }
      }
    }
  });

  it('shows a multi-profile nickname to the friends it is shown to', async () => {
    const app = await talkApp(h);
    const me = await member(h, app, { nickname: 'Me' });
    const other = await member(h, app, { nickname: 'Other' });
    const ryan = await member(h, app, { nickname: 'Ryan', thumbnail_image_url: 'https://k/ryan.jpg' });
    await h.befriend(me, ryan);
    await h.befriend(other, ryan);
    const profile = await h.control('POST', `/accounts/${ryan.id}/talk/profiles`, {
      nickname: 'Work Ryan',
      thumbnail_image_url: 'https://k/work.jpg',
      shown_to: [me.id],
    });
    let res = await friendsOf(me);
    assert.equal(res.json().elements[0].profile_nickname, 'Work Ryan');
    assert.equal(res.json().elements[0].profile_thumbnail_image, 'https://k/work.jpg');
    assert.equal((await friendsOf(other)).json().elements[0].profile_nickname, 'Ryan');
    await h.control('PATCH', `/accounts/${ryan.id}/talk/profiles/${profile.id}`, { nickname: 'Boss Ryan' });
    assert.equal((await friendsOf(me)).json().elements[0].profile_nickname, 'Boss Ryan');
    await h.control('DELETE', `/accounts/${ryan.id}/talk/profiles/${profile.id}`);
    res = await friendsOf(me);
    assert.equal(res.json().elements[0].profile_nickname, 'Ryan');
    assert.equal(res.json().elements[0].profile_thumbnail_image, 'https://k/ryan.jpg');
  });

  it('answers -402 without friends consent, -501 without Kakao Talk, -2 for bad paging', async () => {
    const app = await talkApp(h);
    const me = await member(h, app, { nickname: 'Me' }, ['profile_nickname']);
    const res = await friendsOf(me);
    assertApiError(res, 403, -402, 'insufficient scopes.');
    assert.deepEqual(res.json().required_scopes, ['friends']);
    assert.equal(res.json().api_type, 'FRIENDS');
    const noTalk = await member(h, app, { talk_user: false });
    const r501 = await friendsOf(noTalk);
    assertApiError(r501, 400, -501);
    assert.deepEqual(r501.json(), { msg: 'NotExistTalkUserException', code: -501 });
    const ok = await member(h, app, {});
    assertApiError(await friendsOf(ok, { limit: 101 }), 400, -2, 'limit');
    assertApiError(await friendsOf(ok, { limit: 0 }), 400, -2, 'limit');
    assertApiError(await friendsOf(ok, { offset: -1 }), 400, -2, 'offset');
    // Beyond 2^53 a number is not exact (its before_url would point elsewhere): -2 as for every integer.
    assertApiError(await friendsOf(ok, { offset: '99999999999999999999' }), 400, -2, 'offset');
    assertApiError(await friendsOf(ok, { offset: '9007199254740993' }), 400, -2, 'offset');
    assertApiError(await friendsOf(ok, { order: 'up' }), 400, -2, 'order');
    assertApiError(await friendsOf(ok, { friend_order: 'age' }), 400, -2, 'friend_order');
    assertApiError(await friendsOf(ok, { limit: 'ten' }), 400, -2, 'limit');
    const disabledApp = await h.createApp({ name: 'NoFriends', consent_items: { profile_nickname: 'required', friends: 'disabled' } });
    const off = await member(h, disabledApp, {});
    const r3 = await friendsOf(off);
    assertApiError(r3, 403, -3);
    assert.deepEqual(r3.json(), { msg: '[NoFriends] App disabled [friends] scopes for [FRIENDS] API on developers.kakao.com. Enable it first.', code: -3 });
    const empty = await friendsOf(ok);
    assert.deepEqual(empty.json(), { elements: [], total_count: 0, favorite_count: 0 });
  });

  it('keeps working across export, reset and import', async () => {
    const app = await talkApp(h);
    const me = await member(h, app, { nickname: 'Me' });
    const f = await member(h, app, { nickname: 'Friend' });
    await h.befriend(me, f, true);
    assert.equal((await friendsOf(me)).json().total_count, 1);
    const state = await h.control('GET', '/state');
    await h.control('PUT', '/state', state);
    const res = await friendsOf(me);
    assert.equal(res.json().total_count, 1);
    assert.equal(res.json().favorite_count, 1);
  });
});

forEachStore('Talk control plane', (h) => {
  it('reads and changes Talk settings and multi-profiles, rejecting bad input', async () => {
    const a = await h.createAccount({ nickname: 'A' });
    const b = await h.createAccount({ nickname: 'B' });
    assert.deepEqual(await h.control('GET', `/accounts/${a.id}/talk`), { account_id: a.id, messages_blocked: false, country_iso: null, multi_profiles: [] });
    const changed = await h.control('PATCH', `/accounts/${a.id}/talk`, { messages_blocked: true, country_iso: 'JP' });
    assert.equal(changed.messages_blocked, true);
    assert.equal(changed.country_iso, 'JP');
    assert.equal((await h.control('PUT', `/accounts/${a.id}/talk`, { country_iso: null })).messages_blocked, true);
    const p = await h.control('POST', `/accounts/${a.id}/talk/profiles`, { nickname: 'Work A', shown_to: [b.id] });
    assert.deepEqual(p.shown_to, [b.id]);
    assert.equal((await h.control('GET', `/accounts/${a.id}/talk/profiles`)).length, 1);
    const status = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
      (await h.inject({ method, url: `/_kapibara/v1${url}`, payload, headers: CONTROL_HEADERS })).statusCode;
    assert.equal(await status('GET', '/accounts/1/talk'), 404);
    assert.equal(await status('PATCH', `/accounts/${a.id}/talk`, { country_iso: 'korea' }), 400);
    assert.equal(await status('POST', `/accounts/${a.id}/talk/profiles`, { nickname: 'x', shown_to: [a.id] }), 400);
    assert.equal(await status('POST', `/accounts/${a.id}/talk/profiles`, { nickname: 'x', shown_to: [424242] }), 400);
    assert.equal(await status('POST', `/accounts/${a.id}/talk/profiles`, { shown_to: [] }), 400);
    assert.equal(await status('PATCH', `/accounts/${b.id}/talk/profiles/${p.id}`, { nickname: 'y' }), 404);
    assert.equal(await status('DELETE', `/accounts/${a.id}/talk/profiles/1`), 404);
    // Talk state travels with exports.
    const state = await h.control('GET', '/state');
    assert.equal(state.talk_settings.length, 1);
    assert.equal(state.talk_multi_profiles.length, 1);
    assert.equal(state.talk_profile_viewers.length, 1);
    await h.control('PUT', '/state', state);
    assert.deepEqual((await h.control('GET', `/accounts/${a.id}/talk`)).multi_profiles[0].shown_to, [b.id]);
  });
});

forEachStore('Talk profiles by user list', (h) => {
  it('reproduces seed 003: viewer and targets with the admin key, GET and POST', async () => {
    const app = await talkApp(h);
    const img = (n: string) => ({ profile_image_url: `http://yyy.kakao.com/dn/${n}_640x640.jpg`, thumbnail_image_url: `http://yyy.kakao.com/${n}_110x110.jpg` });
    const viewer = await member(h, app, { nickname: 'xxx', ...img('x') }, ['profile']);
    const a = await member(h, app, { nickname: 'yyy', ...img('y') }, ['profile']);
    const b = await member(h, app, { nickname: 'zzz', ...img('z') }, ['profile']);
    const fields = { viewer_id: viewer.user_id, viewer_id_type: 'user_id', target_ids: `[${a.user_id},${b.user_id}]`, target_id_type: 'user_id' };
    for (const method of ['GET', 'POST'] as const) {
      const res = await h.kapiKey(method, '/v2/api/talk/profiles', app.admin_key, fields);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {
        viewer: { user_id: viewer.user_id, nickname: 'xxx', ...img('x') },
        targets: [
          { user_id: a.user_id, nickname: 'yyy', ...img('y') },
          { user_id: b.user_id, nickname: 'zzz', ...img('z') },
        ],
      });
    }
    // Only nickname consent: only the nickname.
    const nick = await member(h, app, { nickname: 'yyy', ...img('n') }, ['profile_nickname']);
    const res = await h.kapiKey('GET', '/v2/api/talk/profiles', app.admin_key, { target_ids: `[${nick.user_id}]`, target_id_type: 'user_id' });
    assert.deepEqual(res.json(), { targets: [{ user_id: nick.user_id, nickname: 'yyy' }] });
  });

  it('applies the multi-profile a target shows to the viewer when they are friends', async () => {
    const app = await talkApp(h);
    const viewer = await member(h, app, { nickname: 'Viewer' });
    const stranger = await member(h, app, { nickname: 'Stranger' });
    const target = await member(h, app, { nickname: 'Ryan' });
    await h.befriend(viewer, target);
    await h.control('POST', `/accounts/${target.id}/talk/profiles`, { nickname: 'Ryan at work', shown_to: [viewer.id, stranger.id] });
    const ask = (v?: number) =>
      h.kapiKey('POST', '/v2/api/talk/profiles', app.admin_key, {
        target_ids: JSON.stringify([target.user_id]),
        target_id_type: 'user_id',
        ...(v ? { viewer_id: v, viewer_id_type: 'user_id' } : {}),
      });
    assert.equal((await ask(viewer.user_id)).json().targets[0].nickname, 'Ryan at work');
    // Not a friend: the default profile, whatever the assignment says.
    assert.equal((await ask(stranger.user_id)).json().targets[0].nickname, 'Ryan');
    assert.equal((await ask()).json().targets[0].nickname, 'Ryan');
  });

  it('fails as seed 003 documents: unregistered viewer -101, unregistered target -2, wrong key -3', async () => {
    const app = await talkApp(h);
    const other = await talkApp(h);
    const a = await member(h, app, { nickname: 'A' });
    const outsider = await member(h, other, { nickname: 'Out' });
    let res = await h.kapiKey('GET', '/v2/api/talk/profiles', app.admin_key, {
      viewer_id: outsider.user_id,
      viewer_id_type: 'user_id',
      target_ids: `[${a.user_id}]`,
      target_id_type: 'user_id',
    });
    assertApiError(res, 400, -101);
    assert.deepEqual(res.json(), { msg: 'NotRegisteredUserException', code: -101 });
    res = await h.kapiKey('GET', '/v2/api/talk/profiles', app.admin_key, { target_ids: `[${a.user_id},${outsider.user_id}]`, target_id_type: 'user_id' });
    assertApiError(res, 400, -2);
    assert.deepEqual(res.json(), { msg: 'invalid target_ids. can get the profile only to registered users.', code: -2 });
    assertApiError(await h.kapiKey('GET', '/v2/api/talk/profiles', app.rest_api_key, { target_ids: `[${a.user_id}]`, target_id_type: 'user_id' }), 403, -3);
    assertApiError(await h.kapiKey('GET', '/v2/api/talk/profiles', app.admin_key, { target_id_type: 'user_id' }), 400, -2, 'target_ids');
    assertApiError(await h.kapiKey('GET', '/v2/api/talk/profiles', app.admin_key, { target_ids: '[1]', target_id_type: 'uuid' }), 400, -2, 'target_id_type');
    assertApiError(await h.kapiKey('GET', '/v2/api/talk/profiles', app.admin_key, { target_ids: '["x"]', target_id_type: 'user_id' }), 400, -2, 'target_ids');
    assertApiError(await h.kapi('GET', '/v2/api/talk/profiles', a.token, { target_ids: '[1]', target_id_type: 'user_id' }), 401, -401);
  });
});
