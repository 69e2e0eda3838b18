import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { CONTROL_HEADERS, forEachStore, type Harness, type TestAccount, type TestApp } from './helpers/harness.js';
import { afterQuery, beforeInsertInto, whileDeleting } from './helpers/deletes.js';

/**
 * Kakao Talk Channel over the wire (seed 002's Channel table, wire facts §4.5, products notes
 * §2): relations for one person (Bearer and admin forms, v2 and legacy v1), for many
 * (multi), and customer files, with every documented error pinned as an exact body.
 */

const JSON_TYPE = 'application/json;charset=UTF-8';

function exact(res: LightMyRequestResponse, status: number, body: unknown): void {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers['content-type'], JSON_TYPE);
  assert.deepEqual(res.json(), body);
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

async function setup(h: Harness) {
  const app = await h.createApp({ name: 'Channel app', consent_items: { profile_nickname: 'required', plusfriends: 'optional' } });
  const ryan = await h.createAccount({ email: 'ryan@example.com', nickname: 'Ryan' });
  const apeach = await h.createAccount({ email: 'apeach@example.com', nickname: 'Apeach' });
  const alpha = await h.control('POST', '/channels', { app_id: app.id, public_id: '_frxjem', search_id: '@alpha', name: 'Alpha' });
  const beta = await h.control('POST', '/channels', { app_id: app.id, public_id: '_Brxjem', search_id: '@beta', name: 'Beta' });
  return { app, ryan, apeach, alpha, beta };
}

async function relate(h: Harness, publicId: string, account: TestAccount, relation: string) {
  return h.control('PUT', `/channels/${publicId}/relations/${account.id}`, { relation });
}

function jsonPost(h: Harness, url: string, key: string, body: unknown, contentType = 'application/json') {
  return h.inject({ method: 'POST', url, headers: { authorization: `KakaoAK ${key}`, 'content-type': contentType }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
}

forEachStore('Kakao Talk Channel: relations', (h) => {
  it('GET /v2/api/talk/channels: ADDED with updated_at, NONE without (the FL-old fixture shape), every linked channel by default', async () => {
    const { app, ryan } = await setup(h);
    const t = await h.token(app, ryan, ['profile_nickname', 'plusfriends']);
    const added = await relate(h, '_frxjem', ryan, 'ADDED');
    let res = await h.kapi('GET', '/v2/api/talk/channels', t.access_token);
    exact(res, 200, {
      user_id: t.user_id,
      channels: [
        { channel_uuid: '@alpha', channel_public_id: '_frxjem', relation: 'ADDED', updated_at: added.updated_at },
        { channel_uuid: '@beta', channel_public_id: '_Brxjem', relation: 'NONE' },
      ],
    });
    assert.match(added.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // The SDKs' form: channel_ids (comma-separated) with channel_id_type, in the order asked.
    res = await h.kapi('GET', '/v2/api/talk/channels', t.access_token, { channel_ids: '_Brxjem,_frxjem', channel_id_type: 'channel_public_id' });
    exact(res, 200, {
      user_id: t.user_id,
      channels: [
        { channel_uuid: '@beta', channel_public_id: '_Brxjem', relation: 'NONE' },
        { channel_uuid: '@alpha', channel_public_id: '_frxjem', relation: 'ADDED', updated_at: added.updated_at },
      ],
    });
  });

  it('blocking moves the relation to BLOCKED with a new updated_at; NONE removes it', async () => {
    const { app, ryan } = await setup(h);
    const t = await h.token(app, ryan, ['plusfriends']);
    await relate(h, '_frxjem', ryan, 'ADDED');
    await h.advanceClock(90);
    const blocked = await relate(h, '_frxjem', ryan, 'BLOCKED');
    assert.equal(blocked.relation, 'BLOCKED');
    assert.notEqual(blocked.updated_at, blocked.created_at);
    let res = await h.kapi('GET', '/v2/api/talk/channels', t.access_token, { channel_ids: '_frxjem' });
    exact(res, 200, { user_id: t.user_id, channels: [{ channel_uuid: '@alpha', channel_public_id: '_frxjem', relation: 'BLOCKED', updated_at: blocked.updated_at }] });
    await relate(h, '_frxjem', ryan, 'NONE');
    res = await h.kapi('GET', '/v2/api/talk/channels', t.access_token, { channel_ids: '_frxjem' });
    exact(res, 200, { user_id: t.user_id, channels: [{ channel_uuid: '@alpha', channel_public_id: '_frxjem', relation: 'NONE' }] });
  });

  it('admin form (target_id_type=user_id, target_id) and legacy v1 (channel_public_ids)', async () => {
    const { app, ryan } = await setup(h);
    const t = await h.token(app, ryan, ['plusfriends']);
    const added = await relate(h, '_Brxjem', ryan, 'ADDED');
    const expected = { user_id: t.user_id, channels: [{ channel_uuid: '@beta', channel_public_id: '_Brxjem', relation: 'ADDED', updated_at: added.updated_at }] };
    exact(await h.kapiKey('GET', '/v2/api/talk/channels', app.admin_key, { target_id_type: 'user_id', target_id: t.user_id, channel_ids: '_Brxjem' }), 200, expected);
    exact(await h.kapi('GET', '/v1/api/talk/channels', t.access_token, { channel_public_ids: '["_Brxjem"]' }), 200, expected);
    // Other keys than the admin key: -3; an unlinked target: -101.
    exact(await h.kapiKey('GET', '/v2/api/talk/channels', app.rest_api_key, { target_id_type: 'user_id', target_id: t.user_id }), 403, {
      msg: `This api is not allowed by using app_key(${app.rest_api_key}).`,
      code: -3,
    });
    exact(await h.kapiKey('GET', '/v2/api/talk/channels', app.admin_key, { target_id_type: 'user_id', target_id: 12345 }), 400, { msg: 'NotRegisteredUserException', code: -101 });
  });

  it('legacy GET /v1/api/talk/plusfriends (SDK v1): plus_friend_public_ids as a JSON array or a comma list, the relation answer of /v1/api/talk/channels, its errors', async () => {
    const { app, ryan, apeach } = await setup(h);
    const other = await h.createApp({ name: 'Other app' });
    await h.control('POST', '/channels', { app_id: other.id, public_id: '_other2', search_id: '@other2', name: 'Other' });
    const t = await h.token(app, ryan, ['plusfriends']);
    const added = await relate(h, '_frxjem', ryan, 'ADDED');
    const both = {
      user_id: t.user_id,
      channels: [
        { channel_uuid: '@beta', channel_public_id: '_Brxjem', relation: 'NONE' },
        { channel_uuid: '@alpha', channel_public_id: '_frxjem', relation: 'ADDED', updated_at: added.updated_at },
      ],
    };
    // SDK v1 sends the array as its JSON text; a comma list works as for the other lists.
    exact(await h.kapi('GET', '/v1/api/talk/plusfriends', t.access_token, { plus_friend_public_ids: '["_Brxjem","_frxjem"]' }), 200, both);
    exact(await h.kapi('GET', '/v1/api/talk/plusfriends', t.access_token, { plus_friend_public_ids: '_Brxjem,_frxjem' }), 200, both);
    exact(await h.kapi('GET', '/v1/api/talk/plusfriends', t.access_token, { plus_friend_public_ids: '_Brxjem,_frxjem' }), 200, (await h.kapi('GET', '/v1/api/talk/channels', t.access_token, { channel_public_ids: '_Brxjem,_frxjem' })).json());
    // Without a list: every channel linked to the app, in the order they were linked.
    exact(await h.kapi('GET', '/v1/api/talk/plusfriends', t.access_token), 200, { user_id: t.user_id, channels: [both.channels[1], both.channels[0]] });
    // The admin form, as the other relation APIs.
    exact(await h.kapiKey('GET', '/v1/api/talk/plusfriends', app.admin_key, { target_id_type: 'user_id', target_id: t.user_id, plus_friend_public_ids: '["_frxjem"]' }), 200, {
      user_id: t.user_id,
      channels: [both.channels[1]],
    });
    exact(await h.kapi('GET', '/v1/api/talk/plusfriends', t.access_token, { plus_friend_public_ids: '["_nothere"]' }), 400, { msg: 'channel(_nothere) does not exist.', code: -541 });
    exact(await h.kapi('GET', '/v1/api/talk/plusfriends', t.access_token, { plus_friend_public_ids: '["_other2"]' }), 400, { msg: `channel(_other2) is not linked to app(${app.id}).`, code: -819 });
    exact(await h.kapi('GET', '/v1/api/talk/plusfriends', t.access_token, { plus_friend_public_ids: '["_frxjem"' }), 400, { msg: 'invalid plus_friend_public_ids: not a valid JSON array.', code: -2 });
    const noConsent = await h.token(app, apeach, ['profile_nickname']);
    exact(await h.kapi('GET', '/v1/api/talk/plusfriends', noConsent.access_token), 403, {
      msg: 'insufficient scopes.',
      code: -402,
      api_type: 'TALK_CHANNEL',
      required_scopes: ['plusfriends'],
      allowed_scopes: ['profile_nickname'],
    });
    exact(await h.kapi('GET', '/v1/api/talk/plusfriends', 'unknown-token'), 401, { msg: 'this access token does not exist', code: -401 });
  });

  it('without the plusfriends consent: -402 naming it; unknown or unlinked channels: -541, -819; bad channel_id_type: -2', async () => {
    const { app, ryan } = await setup(h);
    const other = await h.createApp({ name: 'Other app' });
    await h.control('POST', '/channels', { app_id: other.id, public_id: '_other1', search_id: '@other', name: 'Other' });
    const noConsent = await h.token(app, ryan, ['profile_nickname']);
    exact(await h.kapi('GET', '/v2/api/talk/channels', noConsent.access_token), 403, {
      msg: 'insufficient scopes.',
      code: -402,
      api_type: 'TALK_CHANNEL',
      required_scopes: ['plusfriends'],
      allowed_scopes: ['profile_nickname'],
    });
    const t = await h.token(app, ryan, ['plusfriends']);
    exact(await h.kapi('GET', '/v2/api/talk/channels', t.access_token, { channel_ids: '_nothere' }), 400, { msg: 'channel(_nothere) does not exist.', code: -541 });
    exact(await h.kapi('GET', '/v2/api/talk/channels', t.access_token, { channel_ids: '_other1' }), 400, { msg: `channel(_other1) is not linked to app(${app.id}).`, code: -819 });
    exact(await h.kapi('GET', '/v2/api/talk/channels', t.access_token, { channel_ids: '_frxjem', channel_id_type: 'channel_uuid' }), 400, {
      msg: 'invalid channel_id_type: channel_uuid (only channel_public_id is supported).',
      code: -2,
    });
    // Linking the other channel to this app makes it readable.
    await h.control('PUT', `/channels/_other1/apps/${app.id}`);
    exact(await h.kapi('GET', '/v2/api/talk/channels', t.access_token, { channel_ids: '_other1' }), 200, {
      user_id: t.user_id,
      channels: [{ channel_uuid: '@other', channel_public_id: '_other1', relation: 'NONE' }],
    });
  });

  it('GET /v2/api/talk/channels/multi: a JSON array per target, created_at and updated_at when related; limits and errors', async () => {
    const { app, ryan, apeach } = await setup(h);
    const r = await h.token(app, ryan, ['plusfriends']);
    const a = await h.token(app, apeach, ['profile_nickname']);
    const added = await relate(h, '_frxjem', ryan, 'ADDED');
    await relate(h, '_frxjem', apeach, 'ADDED');
    const res = await h.kapiKey('GET', '/v2/api/talk/channels/multi', app.admin_key, { target_id_type: 'user_id', target_ids: `${r.user_id},${a.user_id}` });
    exact(res, 200, [
      {
        user_id: r.user_id,
        channels: [
          { channel_uuid: '@alpha', channel_public_id: '_frxjem', relation: 'ADDED', created_at: added.created_at, updated_at: added.updated_at },
          { channel_uuid: '@beta', channel_public_id: '_Brxjem', relation: 'NONE' },
        ],
      },
      // Apeach has not agreed to plusfriends: her relations are not shared.
      { user_id: a.user_id, channels: [] },
    ]);
    exact(await h.kapiKey('GET', '/v2/api/talk/channels/multi', app.admin_key, { target_id_type: 'user_id', target_ids: JSON.stringify([r.user_id]), channel_ids: '_Brxjem' }), 200, [
      { user_id: r.user_id, channels: [{ channel_uuid: '@beta', channel_public_id: '_Brxjem', relation: 'NONE' }] },
    ]);
    const many = Array.from({ length: 201 }, (_, i) => i + 1).join(',');
    exact(await h.kapiKey('GET', '/v2/api/talk/channels/multi', app.admin_key, { target_id_type: 'user_id', target_ids: many }), 400, {
      msg: 'invalid target_ids: at most 200 users a request.',
      code: -2,
    });
    exact(await h.kapiKey('GET', '/v2/api/talk/channels/multi', app.admin_key, { target_id_type: 'user_id', target_ids: '1' }), 400, {
      msg: 'invalid target_ids. can get the relation only to registered users.',
      code: -2,
    });
    exact(await h.kapiKey('GET', '/v2/api/talk/channels/multi', app.admin_key, { target_ids: '1' }), 400, { msg: 'target_id_type is required.', code: -2 });
    exact(await h.kapiKey('GET', '/v2/api/talk/channels/multi', app.rest_api_key, { target_id_type: 'user_id', target_ids: '1' }), 403, {
      msg: `This api is not allowed by using app_key(${app.rest_api_key}).`,
      code: -3,
    });
    // The app turns the plusfriends item off: multi answers -3 like the single-user form.
    await h.control('PATCH', `/apps/${app.id}`, { consent_items: { profile_nickname: 'required', plusfriends: 'disabled' } });
    const off = { msg: `[${app.name}] App disabled [plusfriends] scopes for [TALK_CHANNEL] API on developers.kakao.com. Enable it first.`, code: -3 };
    exact(await h.kapiKey('GET', '/v2/api/talk/channels/multi', app.admin_key, { target_id_type: 'user_id', target_ids: String(r.user_id) }), 403, off);
    exact(await h.kapiKey('GET', '/v2/api/talk/channels', app.admin_key, { target_id_type: 'user_id', target_id: String(r.user_id) }), 403, off);
  });

  it('control-plane writes whose app, channel or person is deleted while they are stored: 404 naming what is gone, never a 500', async () => {
    const owner = await h.createApp({ name: 'Owner' });
    let n = 0;
    const cases: { table: string; gone: string; call: (ids: { channel: string; app: number; person: number }) => Promise<LightMyRequestResponse> }[] = [
      { table: 'channels', gone: 'app', call: (ids) => h.inject({ method: 'POST', url: '/_kapibara/v1/channels', payload: { app_id: ids.app, search_id: '@new', name: 'New' } }) },
      { table: 'channel_apps', gone: 'app', call: (ids) => h.inject({ method: 'PUT', url: `/_kapibara/v1/channels/${ids.channel}/apps/${ids.app}`, headers: CONTROL_HEADERS }) },
      { table: 'channel_apps', gone: 'channel', call: (ids) => h.inject({ method: 'PUT', url: `/_kapibara/v1/channels/${ids.channel}/apps/${ids.app}`, headers: CONTROL_HEADERS }) },
      { table: 'channel_relations', gone: 'channel', call: (ids) => h.inject({ method: 'PUT', url: `/_kapibara/v1/channels/${ids.channel}/relations/${ids.person}`, payload: { relation: 'ADDED' } }) },
      { table: 'channel_relations', gone: 'account', call: (ids) => h.inject({ method: 'PUT', url: `/_kapibara/v1/channels/${ids.channel}/relations/${ids.person}`, payload: { relation: 'ADDED' } }) },
    ];
    for (const c of cases) {
      const app = await h.createApp({ name: `App ${n}` });
      const person = await h.createAccount({ nickname: `Person ${n}` });
      const channel = `_race${n++}`;
      await h.control('POST', '/channels', { app_id: owner.id, public_id: channel, search_id: `@race${n}`, name: 'Race' });
      const ids = { channel, app: app.id, person: person.id };
      const path = c.gone === 'app' ? `/apps/${app.id}` : c.gone === 'channel' ? `/channels/${channel}` : `/accounts/${person.id}`;
      // The delete lands after the route's lookups, before its insert.
      const hold = beforeInsertInto(h.store, c.table, () => h.control('DELETE', path));
      const res = await whileDeleting(hold, () => c.call(ids), (res) => `${c.table}, ${c.gone} gone: ${res.statusCode} ${res.body}`);
      const what = `${c.table}, ${c.gone} gone: ${res.statusCode} ${res.body}`;
      const error = c.gone === 'app' ? `app ${app.id} not found` : c.gone === 'channel' ? `channel ${channel} not found` : `account ${person.id} not found`;
      assert.deepEqual([res.statusCode, res.json()], [404, { error }], what);
    }
  });

  it('PUT a relation whose channel or person is deleted right after it is stored: the 404 of a call after the delete, not a relation of NONE', async () => {
    const owner = await h.createApp({ name: 'Owner' });
    for (const gone of ['channel', 'account'] as const) {
      const person = await h.createAccount({ nickname: `Follower ${gone}` });
      const channel = `_kept${gone === 'channel' ? 1 : 2}`;
      await h.control('POST', '/channels', { app_id: owner.id, public_id: channel, search_id: `@kept${gone}`, name: 'Kept' });
      const hold = afterQuery(h.store, 'insert into "channel_relations"', () => h.control('DELETE', gone === 'channel' ? `/channels/${channel}` : `/accounts/${person.id}`));
      const res = await whileDeleting(hold, () => h.inject({ method: 'PUT', url: `/_kapibara/v1/channels/${channel}/relations/${person.id}`, headers: CONTROL_HEADERS, payload: { relation: 'ADDED' } }), (r) => `${gone}: ${r.statusCode} ${r.body}`);
      const error = gone === 'channel' ? `channel ${channel} not found` : `account ${person.id} not found`;
      assert.deepEqual([res.statusCode, res.json()], [404, { error }], `${gone} gone`);
    }
  });

  it('a channel name with a control character is refused by PATCH as by POST', async () => {
    await h.control('POST', '/channels', { app_id: (await h.createApp()).id, public_id: '_named', search_id: '@named', name: 'Named' });
    for (const [method, url, body] of [
      ['POST', '/channels', { app_id: 1, public_id: '_other', search_id: '@other', name: 'Bell\u0007' }],
      ['PATCH', '/channels/_named', { name: 'Bell\u0007' }],
    ] as const) {
      const res = await h.inject({ method, url: `/_kapibara/v1${url}`, headers: CONTROL_HEADERS, payload: body });
      assert.equal(res.statusCode, 400, `${method} ${url}: ${res.body}`);
      assert.match(res.json().error, /name/, `${method} ${url}`);
    }
    assert.equal((await h.control('GET', '/channels/_named')).name, 'Named');
  });

  it('PATCH /channels/{public_id} on a channel deleted right after its lookup is the 404 of a call after the delete, not a 200 for changes never stored', async () => {
    const owner = await h.createApp({ name: 'Owner' });
    for (const body of [{ name: 'Renamed', banned: true }, {}]) {
      await h.control('POST', '/channels', { app_id: owner.id, public_id: '_patched', search_id: '@patched', name: 'Before' });
      const hold = afterQuery(h.store, 'select * from "channels" where "public_id" =', () => h.control('DELETE', '/channels/_patched'));
      const res = await whileDeleting(hold, () => h.inject({ method: 'PATCH', url: '/_kapibara/v1/channels/_patched', headers: CONTROL_HEADERS, payload: body }), (res) => `${JSON.stringify(body)}: ${res.statusCode} ${res.body}`);
      const what = `${JSON.stringify(body)}: ${res.statusCode} ${res.body}`;
      assert.deepEqual([res.statusCode, res.json()], [404, { error: 'channel _patched not found' }], what);
      assert.equal((await h.inject({ method: 'GET', url: '/_kapibara/v1/channels/_patched', headers: CONTROL_HEADERS })).statusCode, 404);
    }
  });
});

forEachStore('Kakao Talk Channel: customer files', (h) => {
  async function withFile(app: TestApp) {
    const res = await jsonPost(h, '/v1/talkchannel/create/target_user_file', app.admin_key, { channel_public_id: '_frxjem', file_name: 'VIP', schema: { 생년월일: 'string', 구매금액: 'number' } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(Object.keys(res.json()), ['file_id']);
    return res.json().file_id as number;
  }

  it('create, add users (unknown fields ignored), list with the fixed schema, delete users', async () => {
    const { app, ryan } = await setup(h);
    const t = await h.token(app, ryan, ['plusfriends']);
    const before = Date.now();
    const fileId = await withFile(app);
    let res = await jsonPost(h, '/v1/talkchannel/update/target_users', app.rest_api_key, {
      file_id: fileId,
      channel_public_id: '_frxjem',
      user_type: 'app',
      users: [
        { id: String(t.user_id), field: { 생년월일: '1990-01-01', 구매금액: 25000 } },
        { id: '999', field: { 생년월일: '1980-01-01' } },
        { id: String(t.user_id), field: { nickname: 'ignored' } },
      ],
    });
    // The third entry names no schema field: not a success, and the first stays as given.
    exact(res, 200, { file_id: fileId, request_count: 3, success_count: 1 });
    res = await h.kapiKey('GET', '/v1/talkchannel/target_user_file', app.admin_key, { channel_public_id: '_frxjem' });
    assert.equal(res.statusCode, 200, res.body);
    const [file] = res.json();
    assert.ok(Date.parse(file.created_at) >= Math.floor(before / 1000) * 1000);
    exact(res, 200, [{ file_id: fileId, file_name: 'VIP', schema: { 생년월일: 'string', 구매금액: 'number' }, user_count: 1, created_at: file.created_at, updated_at: file.updated_at }]);
    const stored = await h.control('GET', '/channels/_frxjem/files');
    assert.deepEqual(stored[0].users.map((u: any) => [u.user_type, u.id, u.field]), [['app', String(t.user_id), { 생년월일: '1990-01-01', 구매금액: 25000 }]]);

    res = await jsonPost(h, '/v1/talkchannel/update/target_users', app.admin_key, {
      file_id: fileId,
      channel_public_id: '_frxjem',
      user_type: 'phone',
      users: [{ id: '+82-10-1234-5678', field: { 구매금액: '1200' } }, { id: 'not a phone', field: { 구매금액: 1 } }],
    });
    exact(res, 200, { file_id: fileId, request_count: 2, success_count: 1 });
    res = await jsonPost(h, '/v1/talkchannel/delete/target_users', app.admin_key, {
      file_id: fileId,
      channel_public_id: '_frxjem',
      user_type: 'app',
      users: [{ id: String(t.user_id) }, { id: '424242' }],
    });
    exact(res, 200, { file_id: fileId, request_count: 2, success_count: 1 });
    res = await h.kapiKey('GET', '/v1/talkchannel/target_user_file', app.admin_key, { channel_public_id: '_frxjem' });
    assert.equal(res.json()[0].user_count, 1);
  });

  it('errors: -541 no channel, -544 banned, -819 not linked, -816 unknown file, -817 duplicate name, -818 over 30 files, -2 over 2000 users or not JSON', async () => {
    const { app } = await setup(h);
    const other = await h.createApp({ name: 'Other app' });
    const fileId = await withFile(app);
    const create = (key: string, body: unknown) => jsonPost(h, '/v1/talkchannel/create/target_user_file', key, body);
    exact(await create(app.admin_key, { channel_public_id: '_nothere', file_name: 'a', schema: { a: 'string' } }), 400, { msg: 'channel(_nothere) does not exist.', code: -541 });
    exact(await create(other.admin_key, { channel_public_id: '_frxjem', file_name: 'a', schema: { a: 'string' } }), 400, { msg: `channel(_frxjem) is not linked to app(${other.id}).`, code: -819 });
    exact(await create(app.admin_key, { channel_public_id: '_frxjem', file_name: 'VIP', schema: { a: 'string' } }), 400, {
      msg: 'file_name "VIP" is already used by a customer file of channel(_frxjem).',
      code: -817,
    });
    // 1 to 50 characters (not UTF-16 units): an empty name is -817, as one over 50.
    exact(await create(app.admin_key, { channel_public_id: '_frxjem', file_name: '', schema: { a: 'string' } }), 400, {
      msg: 'file_name "" is not allowed: 1 to 50 characters, no control characters.',
      code: -817,
    });
    const emoji = '🎉'.repeat(50);
    const created = await create(app.admin_key, { channel_public_id: '_frxjem', file_name: emoji, schema: { a: 'string' } });
    assert.equal(created.statusCode, 200, created.body);
    exact(await create(app.admin_key, { channel_public_id: '_frxjem', file_name: `${emoji}a`, schema: { a: 'string' } }), 400, {
      msg: `file_name "${emoji}a" is not allowed: 1 to 50 characters, no control characters.`,
      code: -817,
    });
    exact(await create(app.admin_key, { channel_public_id: '_frxjem', file_name: 'b', schema: { a: 'date' } }), 400, { msg: 'invalid schema.a: must be string or number.', code: -2 });
    exact(await create(app.admin_key, { channel_public_id: '_frxjem', schema: { a: 'string' } }), 400, { msg: 'file_name is required.', code: -2 });
    exact(await create(app.admin_key, 'channel_public_id=_frxjem&file_name=x'), 400, {
      msg: "Body is not valid JSON but content-type is set to 'application/json'",
      code: -2,
    });
    exact(await jsonPost(h, '/v1/talkchannel/create/target_user_file', app.admin_key, 'channel_public_id=_frxjem&file_name=x', 'application/x-www-form-urlencoded'), 400, {
      msg: 'INVALID_PARAMETER: the request body must be a JSON object (Content-Type: application/json).',
      code: -2,
    });
    exact(await create(app.javascript_key, { channel_public_id: '_frxjem', file_name: 'c', schema: { a: 'string' } }), 403, {
      msg: `This api is not allowed by using app_key(${app.javascript_key}).`,
      code: -3,
    });
    // The emoji-named file above is the second.
    for (let i = 3; i <= 30; i++) assert.equal((await create(app.admin_key, { channel_public_id: '_frxjem', file_name: `file ${i}`, schema: { a: 'string' } })).statusCode, 200);
    exact(await create(app.admin_key, { channel_public_id: '_frxjem', file_name: 'file 31', schema: { a: 'string' } }), 400, {
      msg: 'channel(_frxjem) already has 30 customer files, the most it may have.',
      code: -818,
    });
    const users = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `010-0000-${String(i).padStart(4, '0')}`, field: { 생년월일: 'x' } }));
    exact(await jsonPost(h, '/v1/talkchannel/update/target_users', app.admin_key, { file_id: 1, channel_public_id: '_frxjem', user_type: 'phone', users: users(1) }), 400, {
      msg: 'invalid file_id: customer file 1 does not exist in channel(_frxjem).',
      code: -816,
    });
    exact(await jsonPost(h, '/v1/talkchannel/update/target_users', app.admin_key, { file_id: fileId, channel_public_id: '_frxjem', user_type: 'phone', users: users(2001) }), 400, {
      msg: 'invalid users: at most 2000 users a request (got 2001).',
      code: -2,
    });
    exact(await jsonPost(h, '/v1/talkchannel/update/target_users', app.admin_key, { file_id: fileId, channel_public_id: '_frxjem', user_type: 'phone', users: users(2000) }), 200, {
      file_id: fileId,
      request_count: 2000,
      success_count: 2000,
    });
    exact(await jsonPost(h, '/v1/talkchannel/delete/target_users', app.admin_key, { file_id: fileId, channel_public_id: '_frxjem', user_type: 'email', users: [{ id: 'a' }] }), 400, {
      msg: 'invalid user_type: must be app or phone.',
      code: -2,
    });
    await h.control('PATCH', '/channels/_frxjem', { banned: true });
    exact(await h.kapiKey('GET', '/v1/talkchannel/target_user_file', app.admin_key, { channel_public_id: '_frxjem' }), 400, { msg: 'channel(_frxjem) is banned.', code: -544 });
  });

  it('a customer-file write whose channel, file or app is deleted while it is stored answers as a call after the delete, never a 500', async () => {
    const { app } = await setup(h);
    let n = 0;
    const answers: unknown[] = [];
    const wanted: unknown[] = [];
    const cases: { gone: 'channel' | 'file app' | 'own app'; write: 'create' | 'update' }[] = [
      { gone: 'channel', write: 'create' },
      { gone: 'channel', write: 'update' },
      { gone: 'file app', write: 'update' },
      { gone: 'own app', write: 'create' },
    ];
    for (const c of cases) {
      const publicId = `_file${n++}`;
      const caller = c.gone === 'own app' ? await h.createApp({ name: `Caller ${n}` }) : app;
      // The file is made by another app linked to the channel: deleting that app deletes the file.
      const maker = await h.createApp({ name: `Maker ${n}` });
      await h.control('POST', '/channels', { app_id: app.id, public_id: publicId, search_id: `@file${n}`, name: 'Files' });
      for (const linked of [caller, maker]) await h.control('PUT', `/channels/${publicId}/apps/${linked.id}`);
      const made = await jsonPost(h, '/v1/talkchannel/create/target_user_file', maker.admin_key, { channel_public_id: publicId, file_name: 'VIP', schema: { tier: 'string' } });
      const fileId = made.json().file_id as number;
      const path = c.gone === 'channel' ? `/channels/${publicId}` : c.gone === 'file app' ? `/apps/${maker.id}` : `/apps/${caller.id}`;
      const remove = () => h.control('DELETE', path);
      // A file is inserted alone; customers are stored in a transaction, so the delete lands
      // after the call's last check (the file's lookup), before the transaction.
      const hold = c.write === 'create' ? beforeInsertInto(h.store, 'channel_files', remove) : afterQuery(h.store, 'select * from "channel_files" where "id" =', remove);
      const res = await whileDeleting(hold, async () => c.write === 'create' ? await jsonPost(h, '/v1/talkchannel/create/target_user_file', caller.admin_key, { channel_public_id: publicId, file_name: 'New', schema: { tier: 'string' } }) : await jsonPost(h, '/v1/talkchannel/update/target_users', caller.admin_key, { file_id: fileId, channel_public_id: publicId, user_type: 'phone', users: [{ id: '010-1234-5678', field: { tier: 'gold' } }] }), (res) => `${c.write}, ${c.gone} gone: ${res.statusCode} ${res.body}`);
      const what = `${c.write}, ${c.gone} gone: ${res.statusCode} ${res.body}`;
      const expected =
        c.gone === 'channel'
          ? [400, { msg: `channel(${publicId}) does not exist.`, code: -541 }]
          : c.gone === 'file app'
            ? [400, { msg: `invalid file_id: customer file ${fileId} does not exist in channel(${publicId}).`, code: -816 }]
            : [401, { msg: 'invalid app key.', code: -401 }];
      answers.push([c.write, c.gone, res.statusCode, res.json()]);
      wanted.push([c.write, c.gone, ...expected]);
    }
    assert.deepEqual(answers, wanted);
  });
});

forEachStore('Kakao Talk Channel: POST /v1/app/validate/sdk', (h) => {
  const validate = (key: string, quota: string | undefined, headers: Record<string, string> = {}) =>
    h.inject({
      method: 'POST',
      url: '/v1/app/validate/sdk',
      headers: { authorization: `KakaoAK ${key}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: quota === undefined ? '' : new URLSearchParams({ quota_properties: quota }).toString(),
    });
  const quota = (uri: string, publicId?: string) => JSON.stringify(publicId === undefined ? { uri } : { uri, channel_public_id: publicId });

  it('the SDKs validate add and chat before opening Kakao Talk: 200 {} for a channel linked to the app, with the native or JavaScript key', async () => {
    const { app } = await setup(h);
    // As Kakao's Flutter SDK sends it (TalkApi._validate): the form field, the native key.
    exact(await validate(app.native_key, quota('/sdk/channel/add', '_frxjem')), 200, {});
    exact(await validate(app.native_key, quota('/sdk/channel/chat', '_Brxjem')), 200, {});
    const ka = `sdk/1.9.0 os/javascript origin/${encodeURIComponent('http://localhost:3000')}`;
    exact(await validate(app.javascript_key, quota('/sdk/channel/add', '_frxjem'), { origin: 'http://localhost:3000', ka }), 200, {});
  });

  it('errors: -541 no channel, -544 banned, -819 not linked, -2 naming a bad quota_properties, -3 other keys, -401 another page or no key', async () => {
    const { app } = await setup(h);
    const other = await h.createApp({ name: 'Other app' });
    await h.control('POST', '/channels', { app_id: other.id, public_id: '_other1', search_id: '@other', name: 'Other' });
    exact(await validate(app.native_key, quota('/sdk/channel/add', '_nothere')), 400, { msg: 'channel(_nothere) does not exist.', code: -541 });
    exact(await validate(app.native_key, quota('/sdk/channel/chat', '_other1')), 400, { msg: `channel(_other1) is not linked to app(${app.id}).`, code: -819 });
    exact(await validate(app.native_key, undefined), 400, { msg: 'quota_properties is required.', code: -2 });
    exact(await validate(app.native_key, 'not json'), 400, { msg: 'invalid quota_properties: not a valid JSON.', code: -2 });
    exact(await validate(app.native_key, '["/sdk/channel/add"]'), 400, { msg: 'invalid quota_properties: Expected object.', code: -2 });
    exact(await validate(app.native_key, JSON.stringify({ channel_public_id: '_frxjem' })), 400, { msg: 'invalid quota_properties.uri: must be /sdk/channel/add or /sdk/channel/chat.', code: -2 });
    exact(await validate(app.native_key, quota('/sdk/talk/profile', '_frxjem')), 400, {
      msg: 'invalid quota_properties.uri: must be /sdk/channel/add or /sdk/channel/chat.',
      code: -2,
    });
    exact(await validate(app.native_key, JSON.stringify({ uri: 7, channel_public_id: '_frxjem' })), 400, { msg: 'invalid quota_properties.uri: must be /sdk/channel/add or /sdk/channel/chat.', code: -2 });
    exact(await validate(app.native_key, quota('/sdk/channel/add')), 400, { msg: 'invalid quota_properties: channel_public_id is required for /sdk/channel/add.', code: -2 });
    exact(await validate(app.native_key, JSON.stringify({ uri: '/sdk/channel/add', channel_public_id: 7 })), 400, { msg: 'invalid quota_properties.channel_public_id: Expected string.', code: -2 });
    exact(await validate(app.admin_key, quota('/sdk/channel/add', '_frxjem')), 403, { msg: `This api is not allowed by using app_key(${app.admin_key}).`, code: -3 });
    exact(await validate(app.rest_api_key, quota('/sdk/channel/add', '_frxjem')), 403, { msg: `This api is not allowed by using app_key(${app.rest_api_key}).`, code: -3 });
    const evil = await validate(app.javascript_key, quota('/sdk/channel/add', '_frxjem'), { origin: 'http://evil.example' });
    exact(evil, 401, { msg: 'domain mismatched! caller=http://evil.example. check out registered web domains.', code: -401 });
    const noKey = await h.inject({ method: 'POST', url: '/v1/app/validate/sdk', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `quota_properties=${encodeURIComponent(quota('/sdk/channel/add', '_frxjem'))}` });
    assert.equal(noKey.statusCode, 401, noKey.body);
    assert.equal(noKey.json().code, -401);
    await h.control('PATCH', '/channels/_frxjem', { banned: true });
    exact(await validate(app.native_key, quota('/sdk/channel/add', '_frxjem')), 400, { msg: 'channel(_frxjem) is banned.', code: -544 });
  });
});

forEachStore('Kakao Talk Channel: console', (h) => {
  it('the channels page shows each channel, its followers and its customer files; a person page their channels', async () => {
    const { app, ryan } = await setup(h);
    await relate(h, '_frxjem', ryan, 'ADDED');
    const res = await jsonPost(h, '/v1/talkchannel/create/target_user_file', app.admin_key, { channel_public_id: '_frxjem', file_name: 'VIP 고객', schema: { tier: 'string' } });
    assert.equal(res.statusCode, 200, res.body);
    const page = await h.inject({ method: 'GET', url: '/_kapibara/console/channels' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<section data-channel="_frxjem"><h2>Alpha/);
    assert.match(page.body, /1 followers/);
    assert.match(page.body, new RegExp(`people/${ryan.id}">Ryan</a></td><td>ADDED`));
    assert.match(page.body, /<strong>VIP 고객<\/strong>/);
    const overview = await h.inject({ method: 'GET', url: '/_kapibara/console' });
    assert.match(overview.body, /href="\/_kapibara\/console\/channels">Kakao Talk Channels</);
    const person = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${ryan.id}` });
    assert.match(person.body, /Kakao Talk Channels \(1\)/);
    assert.match(person.body, /Alpha <code>_frxjem<\/code><\/td><td>ADDED/);
  });
});
