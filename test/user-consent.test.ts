import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { CONTROL_HEADERS, assertApiError, forEachStore } from './helpers/harness.js';

/** An app's service terms: one required, two optional. */
const TERMS = [
  { tag: 'tos', required: true },
  { tag: 'marketing', required: false },
  { tag: 'newsletter', required: false },
];

forEachStore('User API: consents, service terms, shipping addresses, userinfo', (h) => {
  it('/v2/user/scopes lists the catalog with using/agreed/revocable; filter and literal null', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', account_email: 'optional', friends: 'optional' } });
    const person = await h.createAccount();
    const t = await h.token(app, person, ['profile_nickname', 'account_email']);
    const res = await h.kapi('GET', '/v2/user/scopes', t.access_token);
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.id, t.user_id);
    const byId = Object.fromEntries(body.scopes.map((s: { id: string }) => [s.id, s]));
    assert.deepEqual(byId.profile_nickname, {
      id: 'profile_nickname',
      display_name: 'Nickname',
      type: 'PRIVACY',
      using: true,
      agreed: true,
      revocable: false,
    });
    assert.deepEqual(byId.account_email, { id: 'account_email', display_name: 'Email', type: 'PRIVACY', using: true, agreed: true, revocable: true });
    assert.deepEqual(byId.friends, {
      id: 'friends',
      display_name: 'Friends List in Kakao Service(Including profile image, nickname, and favorites)',
      type: 'SERVICE',
      using: true,
      agreed: false,
    });
    assert.equal(byId.talk_message.using, false);
    assert.ok(body.scopes.every((s: Record<string, unknown>) => !('delegated' in s)));

    const filtered = await h.kapi('GET', '/v2/user/scopes', t.access_token, { scopes: ['account_email', 'friends'] });
    assert.deepEqual(filtered.json().scopes.map((s: { id: string }) => s.id), ['account_email', 'friends']);
    const nul = await h.kapi('GET', '/v2/user/scopes', t.access_token, { scopes: 'null' });
    assert.deepEqual(nul.json(), body);
    assertApiError(await h.kapi('GET', '/v2/user/scopes', t.access_token, { scopes: ['nope'] }), 400, -2, 'scopes');
    // Admin form
    const admin = await h.kapiKey('GET', '/v2/user/scopes', app.admin_key, { target_id_type: 'user_id', target_id: t.user_id });
    assert.deepEqual(admin.json(), body);
  });

  it('revoking a scope stops its data at once; required items cannot be revoked', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', account_email: 'optional' } });
    const person = await h.createAccount({ email: 'r@example.com' });
    const t = await h.token(app, person);
    assert.equal((await h.kapi('GET', '/v2/user/me', t.access_token)).json().kakao_account.email, 'r@example.com');
    const res = await h.kapi('POST', '/v2/user/revoke/scopes', t.access_token, { scopes: ['account_email'] });
    assert.equal(res.statusCode, 200);
    const email = res.json().scopes.find((s: { id: string }) => s.id === 'account_email');
    assert.deepEqual(email, { id: 'account_email', display_name: 'Email', type: 'PRIVACY', using: true, agreed: false });
    const ka = (await h.kapi('GET', '/v2/user/me', t.access_token)).json().kakao_account;
    assert.equal(ka.email_needs_agreement, true);
    assert.equal(ka.email, undefined);
    assert.equal(ka.is_email_valid, undefined);
    // Revoking again is harmless
    assert.equal((await h.kapi('POST', '/v2/user/revoke/scopes', t.access_token, { scopes: ['account_email'] })).statusCode, 200);
    const req = await h.kapi('POST', '/v2/user/revoke/scopes', t.access_token, { scopes: ['profile_nickname'] });
    assertApiError(req, 400, -2, 'profile_nickname');
    assert.equal((await h.kapi('GET', '/v2/user/me', t.access_token)).json().kakao_account.profile.nickname, 'Person ' + person.id);
    assertApiError(await h.kapi('POST', '/v2/user/revoke/scopes', t.access_token, {}), 400, -2, 'scopes');
    assertApiError(await h.kapi('POST', '/v2/user/revoke/scopes', t.access_token, { scopes: ['nope'] }), 400, -2, 'scopes');
  });

  it('revoking the older profile item is refused when it carries a required item', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', profile_image: 'optional', account_email: 'optional' } });
    const person = await h.createAccount();
    const t = await h.token(app, person, ['profile', 'account_email']);
    const res = await h.kapi('POST', '/v2/user/revoke/scopes', t.access_token, { scopes: ['account_email', 'profile'] });
    assertApiError(res, 400, -2, '"profile" cannot be revoked (required consent item: profile_nickname)');
    // Nothing was revoked
    const ka = (await h.kapi('GET', '/v2/user/me', t.access_token)).json().kakao_account;
    assert.equal(ka.email_needs_agreement, false);
    assert.equal(ka.profile_nickname_needs_agreement, false);
  });

  it('revoking half of the older profile item keeps the other half', async () => {
    const app = await h.createApp({ consent_items: { profile: 'optional' } });
    const person = await h.createAccount({ nickname: 'Neo', profile_image_url: 'https://img.example.com/neo.png' });
    const t = await h.token(app, person);
    await h.kapi('POST', '/v2/user/revoke/scopes', t.access_token, { scopes: ['profile_image'] });
    const ka = (await h.kapi('GET', '/v2/user/me', t.access_token)).json().kakao_account;
    assert.equal(ka.profile_needs_agreement, true);
    assert.equal(ka.profile_nickname_needs_agreement, false);
    assert.deepEqual(ka.profile, { nickname: 'Neo', is_default_nickname: false });
  });

  it('service terms: list agreed or all, revoke optional ones, agree through KAPI', async () => {
    const app = await h.createApp({ service_terms: TERMS });
    const person = await h.createAccount();
    const t = await h.control('POST', `/apps/${app.id}/users/${person.id}/tokens`, { terms: ['tos', 'marketing'] });
    let res = await h.kapi('GET', '/v2/user/service_terms', t.access_token);
    assert.equal(res.statusCode, 200);
    let body = res.json();
    assert.equal(body.id, t.user_id);
    assert.deepEqual(body.service_terms.map((s: { tag: string }) => s.tag), ['tos', 'marketing']);
    const tos = body.service_terms[0];
    assert.deepEqual(Object.keys(tos), ['tag', 'required', 'agreed', 'revocable', 'agreed_at', 'agreed_by']);
    assert.equal(tos.required, true);
    assert.equal(tos.revocable, false);
    assert.equal(tos.agreed_by, 'KAUTH');
    assert.match(tos.agreed_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    res = await h.kapi('GET', '/v2/user/service_terms', t.access_token, { result: 'app_service_terms' });
    body = res.json();
    assert.deepEqual(body.service_terms[2], { tag: 'newsletter', required: false, agreed: false, revocable: true });
    res = await h.kapi('GET', `/v2/user/service_terms?tags=tos&tags=newsletter&result=app_service_terms`, t.access_token);
    assert.deepEqual(res.json().service_terms.map((s: { tag: string }) => s.tag), ['tos', 'newsletter']);
    res = await h.kapi('GET', '/v2/user/service_terms', t.access_token, { tags: 'tos,marketing,newsletter' });
    assert.deepEqual(res.json().service_terms.map((s: { tag: string }) => s.tag), ['tos', 'marketing']);
    // In the app's term order, whatever order `tags` names them in.
    res = await h.kapi('GET', '/v2/user/service_terms', t.access_token, { tags: 'newsletter,marketing,tos', result: 'app_service_terms' });
    assert.deepEqual(res.json().service_terms.map((s: { tag: string }) => s.tag), ['tos', 'marketing', 'newsletter']);
    assertApiError(await h.kapi('GET', '/v2/user/service_terms', t.access_token, { result: 'everything' }), 400, -2, 'result');
    assertApiError(await h.kapi('GET', '/v2/user/service_terms', t.access_token, { tags: 'ghost' }), 400, -2, 'ghost');

    // Revoke: tags in the query of a POST, as the SDKs send them
    res = await h.kapi('POST', '/v2/user/revoke/service_terms?tags=marketing', t.access_token);
    assert.deepEqual(res.json(), { id: t.user_id, revoked_service_terms: [{ tag: 'marketing', agreed: false }] });
    res = await h.kapi('GET', '/v2/user/service_terms', t.access_token);
    assert.deepEqual(res.json().service_terms.map((s: { tag: string }) => s.tag), ['tos']);
    assertApiError(await h.kapi('POST', '/v2/user/revoke/service_terms', t.access_token, { tags: 'tos' }), 400, -2, 'tos');
    assertApiError(await h.kapi('POST', '/v2/user/revoke/service_terms', t.access_token), 400, -2, 'tags');

    // Upgrade: agreement given in the app's own UI
    res = await h.kapi('POST', '/v2/user/upgrade/service_terms', t.access_token, { tags: 'marketing,newsletter' });
    assert.equal(res.statusCode, 200);
    const up = res.json();
    assert.equal(up.id, t.user_id);
    assert.deepEqual(up.service_terms.map((s: { tag: string; agreed: boolean; agreed_by: string }) => [s.tag, s.agreed, s.agreed_by]), [
      ['marketing', true, 'KAPI'],
      ['newsletter', true, 'KAPI'],
    ]);
    res = await h.kapiKey('GET', '/v2/user/service_terms', app.admin_key, { target_id_type: 'user_id', target_id: t.user_id });
    assert.deepEqual(res.json().service_terms.map((s: { tag: string }) => s.tag), ['tos', 'marketing', 'newsletter']);
    res = await h.kapiKey('POST', '/v2/user/revoke/service_terms', app.admin_key, {
      target_id_type: 'user_id',
      target_id: t.user_id,
      tags: ['newsletter'],
    });
    assert.deepEqual(res.json().revoked_service_terms, [{ tag: 'newsletter', agreed: false }]);
  });

  it('legacy GET /v1/user/service/terms (SDK v1): user_id and the agreed terms as allowed_service_terms [{tag, agreed_at}], Bearer and admin form, the errors of /v2', async () => {
    const app = await h.createApp({ service_terms: TERMS });
    const person = await h.createAccount();
    const t = await h.control('POST', `/apps/${app.id}/users/${person.id}/tokens`, { terms: ['marketing', 'tos'] });
    const v2 = (await h.kapi('GET', '/v2/user/service_terms', t.access_token)).json();
    const agreedAt = Object.fromEntries(v2.service_terms.map((s: { tag: string; agreed_at: string }) => [s.tag, s.agreed_at]));
    let res = await h.kapi('GET', '/v1/user/service/terms', t.access_token);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/json;charset=UTF-8');
    const expected = {
      user_id: t.user_id,
      allowed_service_terms: [
        { tag: 'tos', agreed_at: agreedAt.tos },
        { tag: 'marketing', agreed_at: agreedAt.marketing },
      ],
    };
    assert.deepEqual(res.json(), expected);
    assert.deepEqual(Object.keys(res.json()), ['user_id', 'allowed_service_terms']);
    assert.match(res.json().allowed_service_terms[0].agreed_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // An agreement given later (upgrade) appears with its own time; a revoked one disappears.
    await h.advanceClock(61);
    await h.kapi('POST', '/v2/user/upgrade/service_terms', t.access_token, { tags: 'newsletter' });
    await h.kapi('POST', '/v2/user/revoke/service_terms', t.access_token, { tags: 'marketing' });
    const newsletterAt = (await h.kapi('GET', '/v2/user/service_terms', t.access_token, { tags: 'newsletter' })).json().service_terms[0].agreed_at;
    assert.notEqual(newsletterAt, agreedAt.tos);
    const after = { user_id: t.user_id, allowed_service_terms: [{ tag: 'tos', agreed_at: agreedAt.tos }, { tag: 'newsletter', agreed_at: newsletterAt }] };
    assert.deepEqual((await h.kapi('GET', '/v1/user/service/terms', t.access_token)).json(), after);

    // The admin form, as /v2/user/service_terms.
    res = await h.kapiKey('GET', '/v1/user/service/terms', app.admin_key, { target_id_type: 'user_id', target_id: t.user_id });
    assert.deepEqual(res.json(), after);
    assertApiError(await h.kapiKey('GET', '/v1/user/service/terms', app.admin_key, { target_id_type: 'user_id', target_id: 12345 }), 400, -101, 'NotRegisteredUserException');
    assertApiError(await h.kapiKey('GET', '/v1/user/service/terms', app.javascript_key), 403, -3, 'not allowed');
    assertApiError(await h.kapi('GET', '/v1/user/service/terms', 'unknown-token'), 401, -401, 'this access token does not exist');
    // A person who agreed to no term: an empty list.
    const other = await h.createAccount();
    const none = await h.control('POST', `/apps/${app.id}/users/${other.id}/tokens`, { terms: [] });
    assert.deepEqual((await h.kapi('GET', '/v1/user/service/terms', none.access_token)).json(), { user_id: none.user_id, allowed_service_terms: [] });
    // The legacy `extra=app_service_terms` (the app's every term) is not served: said, not ignored.
    assertApiError(await h.kapi('GET', '/v1/user/service/terms', t.access_token, { extra: 'app_service_terms' }), 400, -2, 'extra=app_service_terms is not served by Kapibara');
  });

  it('shipping addresses: needs_agreement without consent, default first, paging by from_updated_at', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', shipping_address: 'optional' } });
    const person = await h.createAccount();
    const add = async (name: string, isDefault = false) => {
      const row = await h.control('POST', `/accounts/${person.id}/shipping_addresses`, {
        name,
        is_default: isDefault,
        base_address: `${name} base`,
        detail_address: `${name} detail`,
        receiver_name: 'Ryan',
        receiver_phone_number1: '010-1234-5678',
        zone_number: '06164',
      });
      await h.advanceClock(10);
      return row.id as number;
    };
    const home = await add('home', true);
    const office = await add('office');
    const parents = await add('parents');
    const gym = await add('gym');

    const noConsent = await h.token(app, person, ['profile_nickname']);
    let res = await h.kapi('GET', '/v1/user/shipping_address', noConsent.access_token);
    assert.deepEqual(res.json(), { user_id: noConsent.user_id, shipping_addresses_needs_agreement: true });

    const t = await h.token(app, person, ['shipping_address']);
    res = await h.kapi('GET', '/v1/user/shipping_address', t.access_token);
    const all = res.json();
    assert.equal(all.user_id, t.user_id);
    assert.equal(all.shipping_addresses_needs_agreement, false);
    assert.deepEqual(all.shipping_addresses.map((a: { id: number }) => a.id), [home, gym, parents, office]);
    const first = all.shipping_addresses[0];
    assert.deepEqual(Object.keys(first), [
      'id', 'name', 'is_default', 'updated_at', 'type', 'base_address', 'detail_address', 'receiver_name', 'receiver_phone_number1', 'zone_number',
    ]);
    assert.equal(first.is_default, true);
    assert.equal(first.type, 'NEW');
    assert.ok(Number.isInteger(first.updated_at) && first.updated_at > 1_500_000_000 && first.updated_at < 1e10);

    // Page through two at a time, passing the last updated_at (decimal seconds accepted)
    res = await h.kapi('GET', '/v1/user/shipping_address', t.access_token, { page_size: 2 });
    const p1 = res.json().shipping_addresses;
    assert.deepEqual(p1.map((a: { id: number }) => a.id), [home, gym]);
    res = await h.kapi('GET', '/v1/user/shipping_address', t.access_token, { page_size: 2, from_updated_at: `${p1[1].updated_at}.0` });
    const p2 = res.json().shipping_addresses;
    assert.deepEqual(p2.map((a: { id: number }) => a.id), [parents, office]);
    res = await h.kapi('GET', '/v1/user/shipping_address', t.access_token, { page_size: 2, from_updated_at: p2[1].updated_at });
    assert.deepEqual(res.json().shipping_addresses, []);
    // One at a time: the page after the default one continues with the newest other address
    res = await h.kapi('GET', '/v1/user/shipping_address', t.access_token, { page_size: 1, from_updated_at: first.updated_at });
    assert.deepEqual(res.json().shipping_addresses.map((a: { id: number }) => a.id), [gym]);
    // One address by id
    res = await h.kapi('GET', '/v1/user/shipping_address', t.access_token, { address_id: parents });
    assert.deepEqual(res.json().shipping_addresses.map((a: { id: number }) => a.id), [parents]);
    // Admin form
    res = await h.kapiKey('GET', '/v1/user/shipping_address', app.admin_key, { target_id_type: 'user_id', target_id: t.user_id });
    assert.deepEqual(res.json(), all);
    assertApiError(await h.kapi('GET', '/v1/user/shipping_address', t.access_token, { page_size: 0 }), 400, -2, 'page_size');
    assertApiError(await h.kapi('GET', '/v1/user/shipping_address', t.access_token, { from_updated_at: 'yesterday' }), 400, -2, 'from_updated_at');
  });

  it('shipping addresses on the control plane: listed as the API lists them, deleted one by one, unknown ones named', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', shipping_address: 'optional' } });
    const person = await h.createAccount();
    const other = await h.createAccount();
    const home = await h.control('POST', `/accounts/${person.id}/shipping_addresses`, { name: 'home', is_default: true, base_address: 'home base', zone_number: '06164' });
    const office = await h.control('POST', `/accounts/${person.id}/shipping_addresses`, { name: 'office', base_address: 'office base' });
    const theirs = await h.control('POST', `/accounts/${other.id}/shipping_addresses`, { name: 'theirs', base_address: 'x' });
    const listed = await h.control('GET', `/accounts/${person.id}/shipping_addresses`);
    // The order the API lists them in (default first, then the newest), each as POST answered it.
    assert.deepEqual(listed, [home, office]);
    const t = await h.token(app, person, ['shipping_address']);
    const api = (await h.kapi('GET', '/v1/user/shipping_address', t.access_token)).json().shipping_addresses;
    assert.deepEqual(api.map((a: { id: number }) => a.id), [home.id, office.id]);

    const del = (account: number, address: number) => h.inject({ method: 'DELETE', url: `/_kapibara/v1/accounts/${account}/shipping_addresses/${address}`, headers: CONTROL_HEADERS });
    // Another person's address is not this person's to delete: named, and kept.
    let res = await del(person.id, theirs.id);
    assert.deepEqual([res.statusCode, res.json()], [404, { error: `account ${person.id} has no shipping address ${theirs.id}` }]);
    assert.deepEqual(await h.control('GET', `/accounts/${other.id}/shipping_addresses`), [theirs]);
    res = await del(person.id, home.id);
    assert.equal(res.statusCode, 204, res.body);
    assert.equal(res.body, '');
    assert.deepEqual(await h.control('GET', `/accounts/${person.id}/shipping_addresses`), [office]);
    // The app no longer sees it: the person has no default address now.
    const after = (await h.kapi('GET', '/v1/user/shipping_address', t.access_token)).json().shipping_addresses;
    assert.deepEqual(after.map((a: { id: number }) => a.id), [office.id]);
    assert.deepEqual((await h.kapi('GET', '/v1/user/shipping_address', t.access_token, { address_id: home.id })).json().shipping_addresses, []);
    res = await del(person.id, home.id);
    assert.deepEqual([res.statusCode, res.json()], [404, { error: `account ${person.id} has no shipping address ${home.id}` }]);
    // A person who does not exist, and ids that are no ids, in the control plane's own words.
    const gone = await h.inject({ method: 'GET', url: '/_kapibara/v1/accounts/999999999/shipping_addresses', headers: CONTROL_HEADERS });
    assert.deepEqual([gone.statusCode, gone.json()], [404, { error: 'account 999999999 not found' }]);
    res = await del(999999999, office.id);
    assert.deepEqual([res.statusCode, res.json()], [404, { error: 'account 999999999 not found' }]);
    res = await del(person.id, 'home' as unknown as number);
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.json().error, /address_id/);
    // A person with none: an empty list.
    assert.deepEqual(await h.control('GET', `/accounts/${(await h.createAccount()).id}/shipping_addresses`), []);
  });

  it('shipping addresses a test adds in one go each get a second of their own, so paging one by one reaches every one; updated_at may be given', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', shipping_address: 'optional' } });
    const person = await h.createAccount();
    const added: { id: number; updated_at: string }[] = [];
    for (const name of ['a', 'b', 'c', 'd']) added.push(await h.control('POST', `/accounts/${person.id}/shipping_addresses`, { name, base_address: `${name} base` }));
    const seconds = added.map((a) => Date.parse(a.updated_at) / 1000);
    assert.equal(new Set(seconds).size, 4, added.map((a) => a.updated_at).join());
    const t = await h.token(app, person, ['shipping_address']);
    const seen: number[] = [];
    let from: number | undefined;
    for (let page = 0; page < 6; page++) {
      const res = await h.kapi('GET', '/v1/user/shipping_address', t.access_token, from === undefined ? { page_size: 1 } : { page_size: 1, from_updated_at: from });
      const [one] = res.json().shipping_addresses;
      if (!one) break;
      seen.push(one.id);
      from = one.updated_at;
    }
    assert.deepEqual(seen, added.map((a) => a.id).reverse());
    // A given time is kept as given, and refused outside what the clock can show.
    const given = await h.control('POST', `/accounts/${person.id}/shipping_addresses`, { name: 'old', base_address: 'x', updated_at: '2020-02-02T02:02:02Z' });
    assert.equal(given.updated_at, '2020-02-02T02:02:02Z');
    const listed = (await h.kapi('GET', '/v1/user/shipping_address', t.access_token, { address_id: given.id })).json().shipping_addresses[0];
    assert.equal(listed.updated_at, Date.UTC(2020, 1, 2, 2, 2, 2) / 1000);
    const refused = await h.inject({ method: 'POST', url: `/_kapibara/v1/accounts/${person.id}/shipping_addresses`, payload: { name: 'n', base_address: 'x', updated_at: '1969-12-31T23:59:59Z' } });
    assert.equal(refused.statusCode, 400, refused.body);
    assert.match(refused.json().error, /updated_at/);
  });

  it('shipping addresses added at the same time each get a second of their own too; a leap second is refused as the clock refuses it', async () => {
    const person = await h.createAccount();
    const added = await Promise.all(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => h.control('POST', `/accounts/${person.id}/shipping_addresses`, { name, base_address: `${name} base` })),
    );
    const seconds = added.map((a: { updated_at: string }) => a.updated_at);
    assert.equal(new Set(seconds).size, 6, seconds.join());
    const leap = await h.inject({ method: 'POST', url: `/_kapibara/v1/accounts/${person.id}/shipping_addresses`, headers: CONTROL_HEADERS, payload: { name: 'n', base_address: 'x', updated_at: '2016-12-31T23:59:60Z' } });
    assert.deepEqual([leap.statusCode, leap.json()], [400, { error: 'updated_at: "2016-12-31T23:59:60Z" is not a time the clock can show (second 60, a leap second, has no time of its own).' }]);
  });

  it('a shipping address updated_at is read as POST /clock reads a time: finer than a millisecond and out of range refused in the same words', async () => {
    const person = await h.createAccount();
    const add = (updated_at: string) =>
      h.inject({ method: 'POST', url: `/_kapibara/v1/accounts/${person.id}/shipping_addresses`, headers: CONTROL_HEADERS, payload: { name: 'n', base_address: 'x', updated_at } });
    const clock = (now: string) => h.inject({ method: 'POST', url: '/_kapibara/v1/clock', headers: CONTROL_HEADERS, payload: { now } });
    const fine = await add('2030-01-01T00:00:00.0001Z');
    assert.deepEqual([fine.statusCode, fine.json()], [400, { error: 'updated_at: "2030-01-01T00:00:00.0001Z" is finer than the clock\'s millisecond: give at most three decimals.' }]);
    const far = await add('1969-12-31T23:59:59Z');
    assert.deepEqual([far.statusCode, far.json()], [400, { error: 'updated_at: "1969-12-31T23:59:59Z" is not between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z.' }]);
    const farClock = await clock('1969-12-31T23:59:59Z');
    assert.deepEqual([farClock.statusCode, farClock.json()], [400, { error: 'now: "1969-12-31T23:59:59Z" is not between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z.' }]);
    const ok = await add('2030-01-01T00:00:00.1000Z');
    assert.deepEqual([ok.statusCode, ok.json().updated_at], [201, '2030-01-01T00:00:00Z']);
  });

  it('shipping addresses of an app that has not turned the item on: -3, as for a disabled item', async () => {
    const app = await h.createApp({ name: 'No shipping' });
    const t = await h.token(app, await h.createAccount(), ['profile_nickname']);
    const res = await h.kapi('GET', '/v1/user/shipping_address', t.access_token);
    assert.deepEqual([res.statusCode, res.json()], [
      403,
      { msg: '[No shipping] App disabled [shipping_address] scopes for [USER_SHIPPING_ADDRESS] API on developers.kakao.com. Enable it first.', code: -3 },
    ]);
    // /oauth/authorize refuses the item too, so a -402 would send the SDK to an error.
    const authorize = await h.inject({ method: 'GET', url: `/oauth/authorize?client_id=${app.rest_api_key}&redirect_uri=${encodeURIComponent(app.redirect_uris[0])}&response_type=code&scope=shipping_address` });
    assert.match(String(authorize.headers.location), /error_code=KOE205/);
  });

  it('OIDC userinfo returns the consented claims, and -402 without openid', async () => {
    const app = await h.createApp({
      oidc_enabled: true,
      consent_items: { openid: 'required', profile_nickname: 'required', profile_image: 'optional', account_email: 'optional', birthday: 'optional', birthyear: 'optional', gender: 'optional', phone_number: 'optional' },
    });
    const person = await h.createAccount({
      nickname: 'Jay',
      email: 'jay@example.com',
      profile_image_url: 'https://img.example.com/jay.png',
      gender: 'female',
      birthyear: '1995',
      birthday: '1231',
      phone_number: '+82 10-9876-5432',
    });
    const t = await h.token(app, person);
    let res = await h.kapi('GET', '/v1/oidc/userinfo', t.access_token);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      sub: String(t.user_id),
      nickname: 'Jay',
      picture: 'https://img.example.com/jay.png',
      email: 'jay@example.com',
      email_verified: true,
      gender: 'female',
      birthdate: '1995-12-31',
      phone_number: '+82 10-9876-5432',
      phone_number_verified: true,
    });
    res = await h.kapi('POST', '/v1/oidc/userinfo', t.access_token, {});
    assert.equal(res.statusCode, 200);
    await h.kapi('POST', '/v2/user/revoke/scopes', t.access_token, { scopes: ['birthyear', 'account_email', 'phone_number', 'gender', 'profile_image'] });
    res = await h.kapi('GET', '/v1/oidc/userinfo', t.access_token);
    assert.deepEqual(res.json(), { sub: String(t.user_id), nickname: 'Jay', birthdate: '0000-12-31' });

    const plain = await h.token(await h.createApp(), person, ['profile_nickname']);
    res = await h.kapi('GET', '/v1/oidc/userinfo', plain.access_token);
    assertApiError(res, 403, -402);
    assert.deepEqual(res.json().required_scopes, ['openid']);
    assert.equal(res.json().api_type, 'OIDC_USERINFO');
  });
});
