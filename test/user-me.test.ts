import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { assertApiError, forEachStore } from './helpers/harness.js';

const ALL_ITEMS = {
  profile_nickname: 'required',
  profile_image: 'optional',
  account_email: 'optional',
  name: 'optional',
  age_range: 'optional',
  birthyear: 'optional',
  birthday: 'optional',
  gender: 'optional',
  phone_number: 'optional',
  is_korean: 'optional',
};

const RYAN = {
  nickname: 'Ryan',
  email: 'ryan@example.com',
  profile_image_url: 'https://images.example.com/ryan_640.jpg',
  thumbnail_image_url: 'https://images.example.com/ryan_110.jpg',
  name: 'Ryan Kim',
  gender: 'male',
  birthyear: '1990',
  birthday: '0304',
  birthday_type: 'LUNAR',
  is_leap_month: true,
  phone_number: '+82 10-1234-5678',
  is_korean: true,
};

forEachStore('User API: /v2/user/me', (h) => {
  it('returns every consented item with its needs_agreement flag, http image URLs by default', async () => {
    const app = await h.createApp({ consent_items: ALL_ITEMS });
    const person = await h.createAccount(RYAN);
    const t = await h.token(app, person);
    const year = new Date((await h.control('GET', '/clock')).now).getUTCFullYear();
    const decade = Math.floor((year - 1990) / 10) * 10;
    const res = await h.kapi('GET', '/v2/user/me', t.access_token);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/json;charset=UTF-8');
    const me = res.json();
    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    assert.equal(me.id, t.user_id);
    assert.match(me.connected_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(me.has_signed_up, undefined, 'only manual-signup apps get has_signed_up');
    assert.ok(link);
    assert.deepEqual(me.properties, {
      nickname: 'Ryan',
      profile_image: 'http://images.example.com/ryan_640.jpg',
      thumbnail_image: 'http://images.example.com/ryan_110.jpg',
    });
    assert.deepEqual(me.kakao_account, {
      profile_nickname_needs_agreement: false,
      profile_image_needs_agreement: false,
      profile: {
        nickname: 'Ryan',
        thumbnail_image_url: 'http://images.example.com/ryan_110.jpg',
        profile_image_url: 'http://images.example.com/ryan_640.jpg',
        is_default_image: false,
        is_default_nickname: false,
      },
      name_needs_agreement: false,
      name: 'Ryan Kim',
      email_needs_agreement: false,
      is_email_valid: true,
      is_email_verified: true,
      email: 'ryan@example.com',
      age_range_needs_agreement: false,
      age_range: `${decade}~${decade + 9}`,
      birthyear_needs_agreement: false,
      birthyear: '1990',
      birthday_needs_agreement: false,
      birthday: '0304',
      birthday_type: 'LUNAR',
      is_leap_month: true,
      gender_needs_agreement: false,
      gender: 'male',
      phone_number_needs_agreement: false,
      phone_number: '+82 10-1234-5678',
      is_korean_needs_agreement: false,
      is_korean: true,
    });
    // POST with the same answer
    const post = await h.kapi('POST', '/v2/user/me', t.access_token, {});
    assert.deepEqual(post.json(), me);
  });

  it('gates each kakao_account item on its own consent', async () => {
    const app = await h.createApp({ consent_items: ALL_ITEMS });
    const person = await h.createAccount(RYAN);
    const items = Object.keys(ALL_ITEMS);
    const valueKeys: Record<string, string[]> = {
      profile_nickname: [],
      profile_image: [],
      account_email: ['is_email_valid', 'is_email_verified', 'email'],
      name: ['name'],
      age_range: ['age_range'],
      birthyear: ['birthyear'],
      birthday: ['birthday', 'birthday_type', 'is_leap_month'],
      gender: ['gender'],
      phone_number: ['phone_number'],
      is_korean: ['is_korean'],
    };
    const flag = (item: string) => `${item === 'account_email' ? 'email' : item}_needs_agreement`;
    for (const item of items) {
      await h.control('PUT', `/apps/${app.id}/users/${person.id}`, { scopes: [], replace: true });
      const t = await h.token(app, person, [item]);
      const ka = (await h.kapi('GET', '/v2/user/me', t.access_token)).json().kakao_account;
      for (const other of items) {
        assert.equal(ka[flag(other)], other !== item, `${item}: ${flag(other)}`);
        for (const key of valueKeys[other]) assert.equal(key in ka, other === item, `${item}: ${key}`);
      }
      if (item === 'profile_nickname') assert.deepEqual(ka.profile, { nickname: 'Ryan', is_default_nickname: false });
      else if (item === 'profile_image') {
        assert.deepEqual(ka.profile, {
          thumbnail_image_url: 'http://images.example.com/ryan_110.jpg',
          profile_image_url: 'http://images.example.com/ryan_640.jpg',
          is_default_image: false,
        });
      } else assert.equal(ka.profile, undefined);
    }
  });

  it('leaves out items the app does not use, and the older profile item implies both halves', async () => {
    const app = await h.createApp({ consent_items: { profile: 'required' } });
    const person = await h.createAccount({ nickname: 'Apeach' });
    const t = await h.token(app, person);
    const me = (await h.kapi('GET', '/v2/user/me', t.access_token)).json();
    assert.deepEqual(me.kakao_account, {
      profile_needs_agreement: false,
      profile: {
        nickname: 'Apeach',
        thumbnail_image_url: 'http://img1.kakaocdn.net/thumb/R110x110.q70/?fname=https://t1.kakaocdn.net/account_images/default_profile.jpeg',
        profile_image_url: 'http://img1.kakaocdn.net/thumb/R640x640.q70/?fname=https://t1.kakaocdn.net/account_images/default_profile.jpeg',
        is_default_image: true,
        is_default_nickname: false,
      },
    });
    // A default picture is not a property.
    assert.deepEqual(me.properties, { nickname: 'Apeach' });
  });

  it('accepts the token as an access_token query or form parameter (RFC 6750, as node-oauth sends it)', async () => {
    const app = await h.createApp();
    const t = await h.token(app, await h.createAccount({ nickname: 'Q' }));
    let res = await h.inject({ method: 'GET', url: `/v2/user/me?access_token=${encodeURIComponent(t.access_token)}` });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().id, t.user_id);
    res = await h.inject({
      method: 'POST',
      url: '/v2/user/me',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `access_token=${encodeURIComponent(t.access_token)}`,
    });
    assert.equal(res.json().id, t.user_id);
    res = await h.inject({ method: 'GET', url: '/v2/user/me?access_token=nope' });
    assertApiError(res, 401, -401, 'this access token does not exist');
  });

  it('secure_resource=true gives https image URLs', async () => {
    const app = await h.createApp();
    const person = await h.createAccount({ ...RYAN, profile_image_url: 'http://images.example.com/p.jpg', thumbnail_image_url: null });
    const t = await h.token(app, person);
    const me = (await h.kapi('GET', '/v2/user/me', t.access_token, { secure_resource: true })).json();
    assert.equal(me.kakao_account.profile.profile_image_url, 'https://images.example.com/p.jpg');
    assert.equal(me.kakao_account.profile.thumbnail_image_url, 'https://images.example.com/p.jpg');
    assert.equal(me.properties.profile_image, 'https://images.example.com/p.jpg');
    const bad = await h.kapi('GET', '/v2/user/me', t.access_token, { secure_resource: 'yes' });
    assertApiError(bad, 400, -2, 'secure_resource');
  });

  it('property_keys limits the answer; unknown keys are -2', async () => {
    const app = await h.createApp({ consent_items: ALL_ITEMS, user_property_keys: ['grade'] });
    const person = await h.createAccount(RYAN);
    const t = await h.token(app, person);
    await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { grade: 'gold' } });
    let me = (await h.kapi('GET', '/v2/user/me', t.access_token, { property_keys: ['kakao_account.email'] })).json();
    assert.deepEqual(Object.keys(me).sort(), ['connected_at', 'id', 'kakao_account']);
    assert.deepEqual(me.kakao_account, { email_needs_agreement: false, is_email_valid: true, is_email_verified: true, email: 'ryan@example.com' });
    me = (
      await h.kapi('POST', '/v2/user/me', t.access_token, {
        property_keys: ['properties.nickname', 'properties.grade', 'kakao_account.gender', 'kakao_account.profile'],
      })
    ).json();
    assert.deepEqual(me.properties, { nickname: 'Ryan', grade: 'gold' });
    assert.deepEqual(Object.keys(me.kakao_account), [
      'profile_nickname_needs_agreement',
      'profile_image_needs_agreement',
      'profile',
      'gender_needs_agreement',
      'gender',
    ]);
    const bad = await h.kapi('GET', '/v2/user/me', t.access_token, { property_keys: ['kakao_account.shoe_size'] });
    assertApiError(bad, 400, -2, 'property_keys');
    assert.match(bad.json().msg, /kakao_account\.shoe_size/);
    const notJson = await h.kapi('GET', '/v2/user/me', t.access_token, { property_keys: '[kakao_account.email' });
    assertApiError(notJson, 400, -2, 'property_keys');
    const notArray = await h.kapi('GET', '/v2/user/me', t.access_token, { property_keys: { a: 1 } });
    assertApiError(notArray, 400, -2, 'property_keys');
    const nullKeys = await h.kapi('GET', '/v2/user/me', t.access_token, { property_keys: 'null' });
    assert.equal(nullKeys.statusCode, 200);
    assert.ok(nullKeys.json().kakao_account.email);
  });

  it('the same person has different user ids in two apps, and a token reads only its own app', async () => {
    const shop = await h.createApp({ user_property_keys: ['tier'] });
    const game = await h.createApp({ user_property_keys: ['tier'] });
    const person = await h.createAccount(RYAN);
    const ts = await h.token(shop, person);
    const tg = await h.token(game, person);
    assert.notEqual(ts.user_id, tg.user_id);
    await h.kapi('POST', '/v1/user/update_profile', ts.access_token, { properties: { tier: 'shop-vip' } });
    const inShop = (await h.kapi('GET', '/v2/user/me', ts.access_token)).json();
    const inGame = (await h.kapi('GET', '/v2/user/me', tg.access_token)).json();
    assert.equal(inShop.id, ts.user_id);
    assert.equal(inGame.id, tg.user_id);
    assert.equal(inShop.properties.tier, 'shop-vip');
    assert.equal(inGame.properties.tier, undefined);
    // The admin key of one app cannot read the other app's user.
    const cross = await h.kapiKey('GET', '/v2/user/me', shop.admin_key, { target_id_type: 'user_id', target_id: tg.user_id });
    assertApiError(cross, 400, -101, 'NotRegisteredUserException');
  });

  it('admin form reads a user of the app by id', async () => {
    const app = await h.createApp({ manual_signup: true });
    const person = await h.createAccount(RYAN);
    const t = await h.token(app, person);
    const res = await h.kapiKey('GET', '/v2/user/me', app.admin_key, { target_id_type: 'user_id', target_id: t.user_id });
    assert.equal(res.statusCode, 200);
    const me = res.json();
    assert.equal(me.id, t.user_id);
    assert.equal(me.has_signed_up, false);
    assert.equal(me.kakao_account.email, 'ryan@example.com');
    const post = await h.kapiKey('POST', '/v2/user/me', app.admin_key, { target_id_type: 'user_id', target_id: t.user_id });
    assert.deepEqual(post.json(), me);
    assertApiError(await h.kapiKey('GET', '/v2/user/me', app.admin_key), 400, -2, 'target_id_type');
    assertApiError(await h.kapiKey('GET', '/v2/user/me', app.admin_key, { target_id_type: 'user_id' }), 400, -2, 'target_id');
    assertApiError(
      await h.kapiKey('GET', '/v2/user/me', app.admin_key, { target_id_type: 'uuid', target_id: t.user_id }),
      400,
      -2,
      'target_id_type',
    );
    assertApiError(
      await h.kapiKey('GET', '/v2/user/me', app.admin_key, { target_id_type: 'user_id', target_id: 12345 }),
      400,
      -101,
    );
    // Other key types may not use the admin form.
    const rest = await h.kapiKey('GET', '/v2/user/me', app.rest_api_key, { target_id_type: 'user_id', target_id: t.user_id });
    assertApiError(rest, 403, -3, `This api is not allowed by using app_key(${app.rest_api_key}).`);
  });

  it('age_range follows the platform clock', async () => {
    const app = await h.createApp({ consent_items: { age_range: 'optional' } });
    const now = new Date((await h.control('GET', '/clock')).now);
    const person = await h.createAccount({ birthyear: String(now.getUTCFullYear() - 19) });
    const t = await h.token(app, person);
    assert.equal((await h.kapi('GET', '/v2/user/me', t.access_token)).json().kakao_account.age_range, '15~19');
    await h.advanceClock(366 * 24 * 3600);
    // The token has expired by then; read through the admin form.
    const res = await h.kapiKey('GET', '/v2/user/me', app.admin_key, { target_id_type: 'user_id', target_id: t.user_id });
    assert.equal(res.json().kakao_account.age_range, '20~29');
  });
});
