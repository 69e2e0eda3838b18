import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { assertApiError, forEachStore } from './helpers/harness.js';
import { STORY_ID, storyApp, storyUser } from './fixtures/story.js';
import { activityId, deleteStory, newSeq } from '../src/products/story/store.js';
import { CLOCK_MAX_MS } from '../src/core/clock.js';
import { beforeInsertInto, whileDeleting } from './helpers/deletes.js';

const JSON_TYPE = 'application/json;charset=UTF-8';

forEachStore('Kakao Story: profile, notes, my stories', (h) => {
  it('isstoryuser answers the seed sample, false for a person without Kakao Story', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    let res = await h.kapi('GET', '/v1/api/story/isstoryuser', token);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.deepEqual(res.json(), { isStoryUser: true });
    const other = await storyUser(h, app, { story_user: false });
    res = await h.kapi('GET', '/v1/api/story/isstoryuser', other.token);
    assert.deepEqual(res.json(), { isStoryUser: false });
    assertApiError(await h.kapi('GET', '/v1/api/story/isstoryuser', 'nope'), 401, -401);
  });

  it('profile: every field gated by its consent item, as in each of the seed samples', async () => {
    const app = await storyApp(h);
    const account = {
      nickname: 'Ryan',
      profile_image_url: 'https://img.example/aaa.jpeg',
      thumbnail_image_url: 'https://img.example/bbb.jpeg',
      birthday: '1231',
      birthday_type: 'SOLAR',
    };
    const person = await h.createAccount(account);
    await h.control('PUT', `/accounts/${person.id}/story-profile`, { bg_image_url: 'https://img.example/ccc.jpg' });
    const profileWith = async (scopes: string[]) => {
      const { access_token } = await h.token(app, person, scopes);
      await h.control('PUT', `/apps/${app.id}/users/${person.id}`, { scopes, replace: true });
      const res = await h.kapi('GET', '/v1/api/story/profile', access_token);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], JSON_TYPE);
      return res.json();
    };
    const images = {
      profileImageURL: 'https://img.example/aaa.jpeg',
      thumbnailURL: 'https://img.example/bbb.jpeg',
      bgImageURL: 'https://img.example/ccc.jpg',
    };
    assert.deepEqual(await profileWith(['profile_nickname', 'profile_image']), { nickName: 'Ryan', ...images });
    assert.deepEqual(await profileWith(['profile']), { nickName: 'Ryan', ...images });
    assert.deepEqual(await profileWith(['profile_nickname']), { nickName: 'Ryan' });
    assert.deepEqual(await profileWith(['profile_image']), images);
    assert.deepEqual(await profileWith(['profile_nickname', 'profile_image', 'birthday']), {
      nickName: 'Ryan',
      ...images,
      birthday: '1231',
      birthdayType: 'SOLAR',
    });
    const permalinkOnly = await profileWith(['story_permalink']);
    assert.deepEqual(Object.keys(permalinkOnly), ['permalink']);
    assert.match(permalinkOnly.permalink, /^http:\/\/localhost(:\d+)?\/story\/[0-9A-Za-z]{7}$/);
    assert.deepEqual(await profileWith([]), {});

    // The permalink opens the person's Story page.
    const page = await h.inject({ method: 'GET', url: new URL(permalinkOnly.permalink).pathname });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Ryan/);

    // Story-only nickname and images win over the account's.
    await h.control('PUT', `/accounts/${person.id}/story-profile`, { nickname: 'Ryan in Story', thumbnail_url: 'https://img.example/st.jpeg' });
    const p = await profileWith(['profile']);
    assert.equal(p.nickName, 'Ryan in Story');
    assert.equal(p.thumbnailURL, 'https://img.example/st.jpeg');
  });

  it('profile of a person without Kakao Story is -601 NotExistStoryUserException', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app, { story_user: false });
    const res = await h.kapi('GET', '/v1/api/story/profile', token);
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { msg: 'NotExistStoryUserException', code: -601 });
    assertApiError(await h.kapi('POST', '/v1/api/story/post/note', token, { content: 'hi' }), 400, -601);
    assertApiError(await h.kapi('GET', '/v1/api/story/mystories', token), 400, -601);
    assertApiError(await h.kapi('GET', '/v1/api/story/linkinfo', token, { url: 'http://localhost:3000/' }), 400, -601);
  });

  it('posts a note as in the seed sample and reads it back with mystory', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    const res = await h.kapi('POST', '/v1/api/story/post/note', token, {
      content: 'This cafe is really awesome!',
      android_exec_param: 'cafe_id=1234',
      ios_exec_param: 'cafe_id=1234',
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    const { id } = res.json();
    assert.match(id, STORY_ID);
    assert.deepEqual(Object.keys(res.json()), ['id']);

    const read = await h.kapi('GET', '/v1/api/story/mystory', token, { id });
    assert.equal(read.statusCode, 200, read.body);
    const story = read.json();
    const [handle, activity] = id.split('.');
    assert.equal(new URL(story.url).pathname, `/story/${handle}/${activity}`);
    assert.match(story.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(story.created_at) - h.clock.now()) < 60_000, 'created_at is the platform clock');
    assert.deepEqual(story, {
      id,
      url: story.url,
      media_type: 'NOTE',
      created_at: story.created_at,
      comment_count: 0,
      like_count: 0,
      content: 'This cafe is really awesome!',
      comments: [],
      likes: [],
      permission: 'PUBLIC',
    });

    // The story's url is a page Kapibara serves, with the [View on app] link built from the exec params.
    const page = await h.inject({ method: 'GET', url: new URL(story.url).pathname });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /This cafe is really awesome!/);
    assert.ok(page.body.includes(`kakao${app.native_key}://kakaostory?cafe_id=1234`), page.body);
  });

  it('stores permission F/A/M as FRIEND/PUBLIC/ONLY_ME and enable_share; rejects other values', async () => {
    const app = await storyApp(h);
    const { token, person } = await storyUser(h, app);
    const post = async (fields: Record<string, string | boolean>) => {
      const res = await h.kapi('POST', '/v1/api/story/post/note', token, { content: 'x', ...fields });
      assert.equal(res.statusCode, 200, res.body);
      return (await h.kapi('GET', '/v1/api/story/mystory', token, { id: res.json().id })).json();
    };
    assert.equal((await post({ permission: 'F', enable_share: true })).permission, 'FRIEND');
    assert.equal((await post({ permission: 'A' })).permission, 'PUBLIC');
    assert.equal((await post({ permission: 'M' })).permission, 'ONLY_ME');
    assert.equal((await post({})).permission, 'PUBLIC');
    const stories = await h.control('GET', `/accounts/${person.id}/stories`);
    assert.deepEqual(
      stories.map((s: { permission: string; enable_share: boolean }) => [s.permission, s.enable_share]),
      [['PUBLIC', false], ['ONLY_ME', false], ['PUBLIC', false], ['FRIEND', true]],
    );
    for (const bad of ['X', 'PUBLIC', 'f', 'FRIEND']) {
      assertApiError(await h.kapi('POST', '/v1/api/story/post/note', token, { content: 'x', permission: bad }), 400, -2, 'permission');
    }
    assertApiError(await h.kapi('POST', '/v1/api/story/post/note', token, { content: 'x', enable_share: 'maybe' }), 400, -2, 'enable_share');
  });

  it('content: required for a note, up to 2048 characters', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    const exactly = '가'.repeat(2048);
    let res = await h.kapi('POST', '/v1/api/story/post/note', token, { content: exactly });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await h.kapi('GET', '/v1/api/story/mystory', token, { id: res.json().id })).json().content, exactly);
    assertApiError(await h.kapi('POST', '/v1/api/story/post/note', token, { content: exactly + 'a' }), 400, -2, 'content');
    assertApiError(await h.kapi('POST', '/v1/api/story/post/note', token, {}), 400, -2, 'content');
    assertApiError(await h.kapi('POST', '/v1/api/story/post/note', token, { content: '   ' }), 400, -2, 'content');
    res = await h.kapi('POST', '/v1/api/story/post/note', token, { content: '😀'.repeat(2048) });
    assert.equal(res.statusCode, 200, 'characters, not UTF-16 units');
  });

  it('story_publish and story_read consents gate the APIs with -402 and required_scopes', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app, {}, ['profile_nickname']);
    let res = await h.kapi('POST', '/v1/api/story/post/note', token, { content: 'x' });
    assertApiError(res, 403, -402);
    assert.deepEqual(res.json().required_scopes, ['story_publish']);
    assert.equal(res.json().api_type, 'STORY_POST_NOTE');
    for (const kind of ['photo', 'link']) {
      res = await h.kapi('POST', `/v1/api/story/post/${kind}`, token, { content: 'x' });
      assertApiError(res, 403, -402);
      assert.deepEqual(res.json().required_scopes, ['story_publish']);
    }
    for (const [method, url] of [
      ['GET', '/v1/api/story/mystory?id=AAAAAAA.BBBBBBBBBBB'],
      ['GET', '/v1/api/story/mystories'],
      ['DELETE', '/v1/api/story/delete/mystory?id=AAAAAAA.BBBBBBBBBBB'],
    ] as const) {
      res = await h.kapi(method, url, token);
      assertApiError(res, 403, -402);
      assert.deepEqual(res.json().required_scopes, ['story_read']);
      assert.deepEqual(res.json().allowed_scopes, ['profile_nickname']);
    }
    // Publishing alone does not let an app read the stories back.
    const publisher = await storyUser(h, app, {}, ['story_publish']);
    res = await h.kapi('POST', '/v1/api/story/post/note', publisher.token, { content: 'x' });
    assert.equal(res.statusCode, 200);
    assertApiError(await h.kapi('GET', '/v1/api/story/mystory', publisher.token, { id: res.json().id }), 403, -402);
  });

  it("mystory shows the comments and moods friends left (seed sample shape); only friends may react on FRIEND stories", async () => {
    const app = await storyApp(h);
    const { token, person } = await storyUser(h, app, { nickname: 'Ryan' });
    const summer = await h.createAccount({ nickname: '한여름', thumbnail_image_url: 'http://img.example/ABCDEFG.jpeg' });
    const sea = await h.createAccount({ nickname: '여바다', thumbnail_image_url: 'http://img.example/1234566.jpeg' });
    const stranger = await h.createAccount({ nickname: 'Stranger' });
    await h.befriend(person, summer);
    await h.befriend(person, sea);
    const { id } = (await h.kapi('POST', '/v1/api/story/post/note', token, { content: 'This cafe is really awesome!', permission: 'F' })).json();

    const comment = await h.control('POST', `/stories/${id}/comments`, { account_id: summer.id, text: '여기 위치가 어디?' });
    assert.ok(comment.id > 0);
    // The comment as written is the comment as read back.
    const [stored] = (await h.control('GET', `/stories/${id}`)).comments;
    assert.deepEqual(comment, { ...stored, story_id: id });
    await h.control('PUT', `/stories/${id}/likes/${sea.id}`, { emotion: 'COOL' });

    const story = (await h.kapi('GET', '/v1/api/story/mystory', token, { id })).json();
    assert.equal(story.comment_count, 1);
    assert.equal(story.like_count, 1);
    assert.deepEqual(story.comments, [
      { text: '여기 위치가 어디?', writer: { display_name: '한여름', profile_thumbnail_url: 'http://img.example/ABCDEFG.jpeg' } },
    ]);
    assert.deepEqual(story.likes, [{ emotion: 'COOL', actor: { display_name: '여바다', profile_thumbnail_url: 'http://img.example/1234566.jpeg' } }]);

    // Every documented mood; one mood per person (a new one replaces the old).
    for (const emotion of ['LIKE', 'COOL', 'HAPPY', 'SAD', 'CHEER_UP', 'NOT_DEFINED']) {
      await h.control('PUT', `/stories/${id}/likes/${sea.id}`, { emotion });
      const s = (await h.kapi('GET', '/v1/api/story/mystory', token, { id })).json();
      assert.deepEqual(s.likes.map((l: { emotion: string }) => l.emotion), [emotion]);
    }
    let res = await h.inject({ method: 'PUT', url: `/_kapibara/v1/stories/${id}/likes/${sea.id}`, payload: { emotion: 'ANGRY' } });
    assert.equal(res.statusCode, 400);

    // A stranger cannot see a FRIEND story; nobody but the owner sees ONLY_ME.
    res = await h.inject({ method: 'POST', url: `/_kapibara/v1/stories/${id}/comments`, payload: { account_id: stranger.id, text: 'hi' } });
    assert.equal(res.statusCode, 409);
    assert.match(res.json().error, /not a friend/);
    const secret = (await h.kapi('POST', '/v1/api/story/post/note', token, { content: 'secret', permission: 'M' })).json().id;
    res = await h.inject({ method: 'PUT', url: `/_kapibara/v1/stories/${secret}/likes/${sea.id}`, payload: { emotion: 'LIKE' } });
    assert.equal(res.statusCode, 409);
    const open = (await h.kapi('POST', '/v1/api/story/post/note', token, { content: 'open' })).json().id;
    await h.control('POST', `/stories/${open}/comments`, { account_id: stranger.id, text: 'nice' });

    // The control plane removes them again.
    await h.control('DELETE', `/stories/${id}/comments/${comment.id}`);
    await h.control('DELETE', `/stories/${id}/likes/${sea.id}`);
    const after = (await h.kapi('GET', '/v1/api/story/mystory', token, { id })).json();
    assert.deepEqual([after.comment_count, after.like_count, after.comments, after.likes], [0, 0, [], []]);
    res = await h.inject({ method: 'GET', url: '/_kapibara/v1/stories/AAAAAAA.BBBBBBBBBBB' });
    assert.equal(res.statusCode, 404);
  });

  it('mystory of a missing, malformed or foreign id is -605', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    const other = await storyUser(h, app);
    const { id } = (await h.kapi('POST', '/v1/api/story/post/note', other.token, { content: 'mine' })).json();
    assertApiError(await h.kapi('GET', '/v1/api/story/mystory', token, { id }), 400, -605);
    assertApiError(await h.kapi('GET', '/v1/api/story/mystory', token, { id: 'AAAAAAA.BBBBBBBBBBB' }), 400, -605);
    assertApiError(await h.kapi('GET', '/v1/api/story/mystory', token, { id: 'garbage' }), 400, -605);
    assertApiError(await h.kapi('GET', '/v1/api/story/mystory', token), 400, -2, 'id');
  });

  it('mystories: newest first, counts without comment/like bodies, paged by last_id (exclusive)', async () => {
    const app = await storyApp(h);
    const { token, person } = await storyUser(h, app);
    const friend = await h.createAccount({ nickname: 'Friend' });
    await h.befriend(person, friend);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await h.kapi('POST', '/v1/api/story/post/note', token, { content: `story ${i}` });
      ids.push(res.json().id);
      await h.advanceClock(1);
    }
    await h.control('POST', `/stories/${ids[19]}/comments`, { account_id: friend.id, text: 'a' });
    await h.control('POST', `/stories/${ids[19]}/comments`, { account_id: friend.id, text: 'b' });
    await h.control('PUT', `/stories/${ids[19]}/likes/${friend.id}`, { emotion: 'HAPPY' });
    const newest = [...ids].reverse();

    let res = await h.kapi('GET', '/v1/api/story/mystories', token);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    const first = res.json();
    assert.ok(Array.isArray(first));
    assert.equal(first.length, 18);
    assert.deepEqual(first.map((s: { id: string }) => s.id), newest.slice(0, 18));
    assert.deepEqual(Object.keys(first[0]), ['id', 'url', 'media_type', 'created_at', 'comment_count', 'like_count', 'content', 'permission']);
    assert.equal(first[0].comment_count, 2);
    assert.equal(first[0].like_count, 1);
    assert.equal(first[0].media_type, 'NOTE');
    assert.ok(first[0].created_at > first[1].created_at);

    res = await h.kapi('GET', '/v1/api/story/mystories', token, { last_id: first[17].id });
    assert.deepEqual(res.json().map((s: { id: string }) => s.id), newest.slice(18));
    res = await h.kapi('GET', '/v1/api/story/mystories', token, { last_id: newest[5] });
    assert.deepEqual(res.json().map((s: { id: string }) => s.id), newest.slice(6, 20).slice(0, 18));
    res = await h.kapi('GET', '/v1/api/story/mystories', token, { last_id: newest[19] });
    assert.deepEqual(res.json(), []);

    // A cursor still works after its story was deleted.
    assert.equal((await h.kapi('DELETE', '/v1/api/story/delete/mystory', token, { id: newest[17] })).statusCode, 200);
    res = await h.kapi('GET', '/v1/api/story/mystories', token, { last_id: newest[17] });
    assert.deepEqual(res.json().map((s: { id: string }) => s.id), newest.slice(18));

    // Someone else's story id, or no story id at all, is not a cursor.
    const other = await storyUser(h, app);
    const foreign = (await h.kapi('POST', '/v1/api/story/post/note', other.token, { content: 'x' })).json().id;
    assertApiError(await h.kapi('GET', '/v1/api/story/mystories', token, { last_id: foreign }), 400, -605);
    assertApiError(await h.kapi('GET', '/v1/api/story/mystories', token, { last_id: 'nope' }), 400, -605);
    assert.deepEqual((await h.kapi('GET', '/v1/api/story/mystories', other.token)).json().map((s: { id: string }) => s.id), [foreign]);
  });

  it('mystories pages past stories that share a position (the same millisecond and tiebreak): none is skipped', async () => {
    const app = await storyApp(h);
    const { token } = await storyUser(h, app);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push((await h.kapi('POST', '/v1/api/story/post/note', token, { content: `story ${i}` })).json().id);
      await h.advanceClock(1);
    }
    // Stories 1 and 2 (the last of the first page and the first of the next) get one position,
    // as two stories posted in one millisecond with the same tiebreak do.
    const db = h.app.platform.db;
    const [a, b] = [ids[1], ids[2]];
    const seq = Number((await db.selectFrom('stories').select('seq').where('id', '=', a).executeTakeFirstOrThrow()).seq);
    const handle = a.split('.')[0];
    const prefix = activityId(seq).slice(0, 9);
    const [low, high] = [`${handle}.${prefix}AA`, `${handle}.${prefix}zz`];
    await db.updateTable('stories').set({ id: low, seq }).where('id', '=', a).execute();
    await db.updateTable('stories').set({ id: high, seq }).where('id', '=', b).execute();
    const seen: string[] = [];
    let last: string | undefined;
    for (let page = 0; page < 3; page++) {
      const res = await h.kapi('GET', '/v1/api/story/mystories', token, last ? { last_id: last } : {});
      const got = res.json().map((s: { id: string }) => s.id);
      if (got.length === 0) break;
      seen.push(...got);
      last = got[got.length - 1];
    }
    assert.equal(seen.length, 20);
    assert.equal(new Set(seen).size, 20);
    assert.deepEqual(seen.slice(17, 19), [high, low]);
  });

  it('stories posted with the clock far ahead (2099 to 9999) can be read, listed in order and deleted', async () => {
    const app = await storyApp(h);
    const { person } = await storyUser(h, app);
    const ids: string[] = [];
    let token = '';
    // (The clock runs on after each setting: a minute apart on either side of 2100.)
    for (const now of ['2099-12-31T23:59:00.000Z', '2100-01-01T00:01:00.000Z', '2150-06-01T00:00:00.000Z', '9999-12-31T00:00:00.000Z']) {
      await h.control('POST', '/clock', { now });
      token = (await h.token(app, person)).access_token;
      const res = await h.kapi('POST', '/v1/api/story/post/note', token, { content: now });
      assert.equal(res.statusCode, 200, res.body);
      ids.push(res.json().id);
      assert.equal((await h.kapi('GET', '/v1/api/story/mystory', token, { id: res.json().id })).json().content, now);
    }
    const listed = (await h.kapi('GET', '/v1/api/story/mystories', token)).json().map((s: { id: string }) => s.id);
    assert.deepEqual(listed, [...ids].reverse());
    assert.equal((await h.kapi('DELETE', '/v1/api/story/delete/mystory', token, { id: ids[2] })).statusCode, 200);
    assertApiError(await h.kapi('GET', '/v1/api/story/mystory', token, { id: ids[2] }), 400, -605);
    await h.control('POST', '/clock', { offset_ms: 0 });
    // Across 2100 the position keeps its order, and at the clock's end it is still exact.
    const t0 = Date.UTC(2100, 0, 1);
    for (let i = 0; i < 200; i++) assert.ok(newSeq(t0 - 1) < newSeq(t0) && newSeq(t0) < newSeq(t0 + 1));
    assert.ok(newSeq(CLOCK_MAX_MS) <= Number.MAX_SAFE_INTEGER);
    // Stories one instance stores within one millisecond keep the order they were stored in
    // (a test posting two in a row lists them newest first every time, not by a coin toss).
    for (const t of [Date.UTC(2026, 11, 6), t0 + 5]) {
      const seqs = Array.from({ length: 100 }, () => newSeq(t));
      assert.ok(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]), `in order at ${new Date(t).toISOString()}: ${seqs.slice(0, 5).join(', ')}…`);
    }
  });

  it('the permalink page lists the person\'s public stories, however many private ones are newer', async () => {
    const app = await storyApp(h);
    const { token, person } = await storyUser(h, app, { nickname: 'Pages' });
    const shared = (await h.kapi('POST', '/v1/api/story/post/note', token, { content: 'the public one' })).json().id;
    for (let i = 0; i < 51; i++) await h.kapi('POST', '/v1/api/story/post/note', token, { content: `private ${i}`, permission: 'M' });
    const profile = (await h.kapi('GET', '/v1/api/story/profile', (await h.token(app, person, ['story_permalink'])).access_token)).json();
    const page = await h.inject({ method: 'GET', url: new URL(profile.permalink).pathname });
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes(`/story/${shared.replace('.', '/')}`), 'the public story is listed');
    assert.doesNotMatch(page.body, /private \d/);
  });

  it('delete/mystory: 200 with an empty body; then -605, as for a foreign id', async () => {
    const app = await storyApp(h);
    const { token, person } = await storyUser(h, app);
    const friend = await h.createAccount();
    await h.befriend(person, friend);
    const { id } = (await h.kapi('POST', '/v1/api/story/post/note', token, { content: 'bye' })).json();
    await h.control('POST', `/stories/${id}/comments`, { account_id: friend.id, text: 'c' });
    await h.control('PUT', `/stories/${id}/likes/${friend.id}`, { emotion: 'SAD' });
    const other = await storyUser(h, app);
    const foreign = (await h.kapi('POST', '/v1/api/story/post/note', other.token, { content: 'not yours' })).json().id;
    assertApiError(await h.kapi('DELETE', '/v1/api/story/delete/mystory', token, { id: foreign }), 400, -605);

    const res = await h.inject({ method: 'DELETE', url: `/v1/api/story/delete/mystory?id=${id}`, headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
    assert.equal(res.headers['content-length'], '0');
    assert.equal(res.headers['content-type'], JSON_TYPE);

    assertApiError(await h.kapi('DELETE', '/v1/api/story/delete/mystory', token, { id }), 400, -605);
    assertApiError(await h.kapi('GET', '/v1/api/story/mystory', token, { id }), 400, -605);
    assert.deepEqual(await h.control('GET', `/accounts/${person.id}/stories`), []);
    assert.equal((await h.inject({ method: 'GET', url: `/story/${id.replace('.', '/')}` })).statusCode, 404);
    // The other person's story is untouched.
    assert.equal((await h.kapi('GET', '/v1/api/story/mystory', other.token, { id: foreign })).statusCode, 200);
    assertApiError(await h.kapi('DELETE', '/v1/api/story/delete/mystory', token), 400, -2, 'id');
  });

  it('control plane: a story written in the Story app shows up in mystories; unknown ids are 404', async () => {
    const app = await storyApp(h);
    const { token, person } = await storyUser(h, app);
    const created = await h.control('POST', `/accounts/${person.id}/stories`, { content: 'from the Story app', permission: 'FRIEND' });
    assert.match(created.id, STORY_ID);
    assert.equal(created.app_id, null);
    const list = (await h.kapi('GET', '/v1/api/story/mystories', token)).json();
    assert.deepEqual(list.map((s: { id: string; permission: string }) => [s.id, s.permission]), [[created.id, 'FRIEND']]);
    const res = await h.inject({ method: 'GET', url: '/_kapibara/v1/accounts/123/stories' });
    assert.equal(res.statusCode, 404);
  });

  it('a comment or a mood whose story or person is deleted while it is stored: 404 naming what is gone, as after the delete, never a 500', async () => {
    const owner = await h.createAccount({ nickname: 'Owner' });
    const cases = [
      { table: 'story_comments', gone: 'story' },
      { table: 'story_comments', gone: 'account' },
      { table: 'story_likes', gone: 'story' },
      { table: 'story_likes', gone: 'account' },
    ];
    for (const c of cases) {
      const story = await h.control('POST', `/accounts/${owner.id}/stories`, { content: `${c.table} ${c.gone}` });
      const reactor = await h.createAccount({ nickname: 'Reactor' });
      // The delete lands after the route found the story and the person, before its insert (a
      // story as its owner deletes it through the API).
      const remove = () => (c.gone === 'story' ? deleteStory(h.store.db, story.id) : h.control('DELETE', `/accounts/${reactor.id}`));
      const hold = beforeInsertInto(h.store, c.table, remove);
      const res = await whileDeleting(hold, async () => c.table === 'story_comments' ? await h.inject({ method: 'POST', url: `/_kapibara/v1/stories/${story.id}/comments`, payload: { account_id: reactor.id, text: 'hi' } }) : await h.inject({ method: 'PUT', url: `/_kapibara/v1/stories/${story.id}/likes/${reactor.id}`, payload: { emotion: 'LIKE' } }), () => `${c.table} ${c.gone}: the delete landed before the insert`);
      const error = c.gone === 'story' ? `story ${story.id} not found` : `account ${reactor.id} not found`;
      assert.deepEqual([res.statusCode, res.json()], [404, { error }], `${c.table} ${c.gone}`);
    }
  });
});
