import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildApp } from '../src/app.js';
import { forEachStore } from './helpers/harness.js';

/**
 * The Bearer hot path keeps resolved tokens in memory on SQLite: nothing that changes the
 * database may ever be answered from a stale copy.
 */
forEachStore('User API: hot path freshness', (h) => {
  it('every change made through Kapibara is seen by the next call', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', account_email: 'optional' } });
    const person = await h.createAccount({ nickname: 'Before', email: 'b@example.com' });
    const t = await h.token(app, person);
    const me = async () => h.kapi('GET', '/v2/user/me', t.access_token);
    for (let i = 0; i < 3; i++) assert.equal((await me()).json().kakao_account.profile.nickname, 'Before');

    await h.control('PATCH', `/accounts/${person.id}`, { nickname: 'After' });
    assert.equal((await me()).json().kakao_account.profile.nickname, 'After');

    await h.control('PATCH', `/apps/${app.id}`, { consent_items: { profile_nickname: 'required', account_email: 'disabled', gender: 'optional' } });
    const ka = (await me()).json().kakao_account;
    assert.equal(ka.gender_needs_agreement, true);

    await h.kapi('POST', '/v2/user/revoke/scopes', t.access_token, { scopes: ['account_email'] });
    assert.equal((await me()).json().kakao_account.email, undefined);

    await h.kapi('POST', '/v1/user/logout', t.access_token);
    assert.equal((await me()).statusCode, 401);
  });

  it('a rejected change does not alter what later calls see', async () => {
    const app = await h.createApp({ user_property_keys: ['tier'] });
    const t = await h.token(app, await h.createAccount());
    await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { tier: 'gold' } });
    const bad = await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { tier: 'x', nope: 'y' } });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual((await h.kapi('GET', '/v2/user/me', t.access_token)).json().properties.tier, 'gold');
  });
});

describe('User API: hot path freshness across processes (SQLite file)', () => {
  it('a commit by another connection to the same file is seen within a millisecond', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kapibara-hotpath-'));
    const file = join(dir, 'kapibara.sqlite');
    const app = await buildApp({ sqlitePath: file });
    try {
      const control = async (method: 'POST' | 'GET', url: string, payload?: object) => {
        const res = await app.inject({ method, url: `/_kapibara/v1${url}`, payload });
        assert.ok(res.statusCode < 300, res.body);
        return res.json();
      };
      const created = await control('POST', '/apps', {});
      const person = await control('POST', '/accounts', { nickname: 'Mine' });
      const t = await control('POST', `/apps/${created.id}/users/${person.id}/tokens`, {});
      const me = () => app.inject({ method: 'GET', url: '/v2/user/me', headers: { authorization: `Bearer ${t.access_token}` } });
      assert.equal((await me()).json().kakao_account.profile.nickname, 'Mine');

      const other = new Database(file);
      // Other processes' commits are looked for once a millisecond.
      const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
      other.prepare('UPDATE accounts SET nickname = ? WHERE id = ?').run('Theirs', person.id);
      await settle();
      assert.equal((await me()).json().kakao_account.profile.nickname, 'Theirs');
      other.prepare('DELETE FROM access_tokens').run();
      other.close();
      await settle();
      assert.equal((await me()).statusCode, 401);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
