import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/harness.js';
import { startKapibara } from '../src/testing.js';

/**
 * What a state document leaves out (`connected_at`, agreement times) is stamped on the
 * platform clock the store has once the document is in: the document's own offset, none
 * after a replace without one, the store's after a merge (docs/state-format.md).
 */

const YEAR_2035 = Date.UTC(2035, 0, 1);
const DAY = 24 * 3600 * 1000;

function doc(offsetMs?: number) {
  return {
    version: 1,
    apps: [{ id: 4242, name: 'Seeded shop', redirect_uris: ['http://localhost:3000/callback'], consent_items: { profile_nickname: 'required' } }],
    accounts: [{ id: 1, email: 'ryan@example.com', nickname: 'Ryan' }],
    app_users: [{ app_id: 4242, account_id: 1, scopes: ['profile_nickname'] }],
    ...(offsetMs === undefined ? {} : { settings: [{ key: 'clock_offset_ms', value: String(offsetMs) }] }),
  };
}

/** Whether an ISO time is within a day of `ms` (the test runs in real time). */
function near(iso: string, ms: number): boolean {
  return Math.abs(Date.parse(iso) - ms) < DAY;
}

forEachStore('state import and the platform clock', (h) => {
  it('PUT /state with no offset stamps on real time, the clock the store then has, not on the clock before the import', async () => {
    await h.control('POST', '/clock', { now: '2035-01-01T00:00:00Z' });
    await h.control('PUT', '/state', doc());
    const clock = await h.control('GET', '/clock');
    assert.equal(clock.offset_ms, 0);
    const link = await h.control('GET', '/apps/4242/users/1');
    assert.ok(near(link.connected_at, Date.now()), link.connected_at);
  });

  it('PUT /state with the document’s own offset stamps on that clock', async () => {
    const offset = YEAR_2035 - Date.now();
    await h.control('PUT', '/state', doc(offset));
    const link = await h.control('GET', '/apps/4242/users/1');
    assert.ok(near(link.connected_at, YEAR_2035), link.connected_at);
    assert.ok(near((await h.control('GET', '/clock')).now, YEAR_2035));
  });

  it('POST /state (a merge) stamps on the clock the store holds', async () => {
    await h.control('POST', '/clock', { now: '2035-01-01T00:00:00Z' });
    await h.control('POST', '/state', doc());
    const link = await h.control('GET', '/apps/4242/users/1');
    assert.ok(near(link.connected_at, YEAR_2035), link.connected_at);
  });
});

it('startKapibara({ state }) stamps on the clock the document sets', async () => {
  const kakao = await startKapibara({ state: doc(YEAR_2035 - Date.now()) });
  try {
    const link = await (await fetch(`${kakao.url}/_kapibara/v1/apps/4242/users/1`)).json();
    assert.ok(near(link.connected_at, YEAR_2035), link.connected_at);
  } finally {
    await kakao.stop();
  }
});
