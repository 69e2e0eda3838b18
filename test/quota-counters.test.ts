import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { assertApiError, forEachStore } from './helpers/harness.js';

/**
 * Talk quota counters count a sender's day and month, a receiver's day and a pair's day (KST).
 * Once their period is over they can never be read again: the expiry sweep removes them a day
 * after it ended, as it removes expired tokens (docs/control-plane.md, "What grows").
 */

const TEXT = JSON.stringify({ object_type: 'text', text: 'x', link: { web_url: 'http://localhost:3000' } });
const KST = 9 * 3600_000;
const DAY = 24 * 3600_000;

forEachStore('Talk quota counters of past periods', (h) => {
  async function pair() {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', friends: 'optional', talk_message: 'optional' } });
    const a = await h.createAccount({ nickname: 'A' });
    const b = await h.createAccount({ nickname: 'B' });
    await h.befriend(a, b);
    await h.befriend(b, a);
    const token = (await h.token(app, a)).access_token;
    await h.token(app, b);
    const uuid = (await h.kapi('GET', '/v1/api/talk/friends', token)).json().elements[0].uuid;
    // A token of its own for each send: the clock moves by days between them.
    const send = async () =>
      h.kapi('POST', '/v1/api/talk/friends/message/default/send', (await h.token(app, a)).access_token, { receiver_uuids: JSON.stringify([uuid]), template_object: TEXT });
    return { app, a, b, send };
  }

  async function counters(): Promise<string[]> {
    const rows = await h.store.db.selectFrom('talk_quota_counters').select('counter_key').execute();
    return rows.map((r) => r.counter_key).sort();
  }

  async function setClock(ms: number) {
    await h.control('POST', '/clock', { now: new Date(ms).toISOString() });
  }

  /** Counters the sweep removed (it removes the tokens that expired meanwhile too). */
  const sweep = async (): Promise<number> => (await h.control('POST', '/expired/sweep')).removed.talk_quota_counters ?? 0;

  it("a day's counters go a day after the KST day ends, the month's a day after the month ends; today's still count", async () => {
    // 2026-11-30 10:00 KST: the last day of a month.
    const sentAt = Date.UTC(2026, 10, 30, 10) - KST;
    await setClock(sentAt);
    const { a, b, app, send } = await pair();
    await h.control('PUT', `/apps/${app.id}/message_quotas`, { pair_daily: 1 });
    assert.equal((await send()).statusCode, 200);
    assert.deepEqual(await counters(), [`p:${a.id}:${b.id}:20261130`, `r:${b.id}:20261130`, `s:${a.id}:20261130`, `sm:${a.id}:202611`]);

    // The day and the month end at 2026-12-01 00:00 KST; they are kept a day longer.
    const periodEnd = Date.UTC(2026, 11, 1) - KST;
    await setClock(periodEnd + DAY - 60_000);
    assert.equal(await sweep(), 0);
    assert.equal((await counters()).length, 4);
    await setClock(periodEnd + DAY + 60_000);
    assert.equal(await sweep(), 4);
    assert.deepEqual(await counters(), []);

    // The current day's counters stay and keep counting.
    assert.equal((await send()).statusCode, 200);
    assert.equal(await sweep(), 0);
    assertApiError(await send(), 400, -536);
  });

  it('a month counter outlives the day counters of its month', async () => {
    const sentAt = Date.UTC(2026, 10, 10, 10) - KST;
    await setClock(sentAt);
    const { a, send } = await pair();
    assert.equal((await send()).statusCode, 200);
    await setClock(Date.UTC(2026, 10, 11) - KST + DAY + 60_000);
    assert.equal(await sweep(), 3);
    assert.deepEqual(await counters(), [`sm:${a.id}:202611`]);
    // The export leaves out what the sweep would remove, and keeps the month's counter.
    await setClock(Date.UTC(2026, 11, 1) - KST + DAY + 60_000);
    assert.deepEqual((await h.control('GET', '/state')).talk_quota_counters, []);
    assert.equal(await sweep(), 1);
  });

  it("an imported counter without expires_at (an older export) takes its period's end from its key", async () => {
    await setClock(Date.UTC(2026, 10, 10, 10) - KST);
    const { send } = await pair();
    assert.equal((await send()).statusCode, 200);
    const state = await h.control('GET', '/state');
    const stored = state.talk_quota_counters.map((row: Record<string, unknown>) => [row.counter_key, row.expires_at]);
    assert.deepEqual(
      stored.map(([key, at]: [string, number]) => [key.split(':')[0], at]).sort(),
      [['p', Date.UTC(2026, 10, 11) - KST], ['r', Date.UTC(2026, 10, 11) - KST], ['s', Date.UTC(2026, 10, 11) - KST], ['sm', Date.UTC(2026, 11, 1) - KST]],
    );
    for (const row of state.talk_quota_counters) delete row.expires_at;
    await h.control('PUT', '/state', state);
    const again = await h.control('GET', '/state');
    assert.deepEqual(again.talk_quota_counters.map((row: Record<string, unknown>) => [row.counter_key, row.expires_at]), stored);
  });

  it('a counter key that names no period is refused on import without expires_at, naming the field', async () => {
    const app = await h.createApp();
    const res = await h.inject({
      method: 'POST',
      url: '/_kapibara/v1/state',
      headers: { 'x-kapibara-control': '1' },
      payload: { talk_quota_counters: [{ app_id: app.id, counter_key: 'whatever', count: 1 }] },
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.json().error, /talk_quota_counters\[0\]\.expires_at/);
  });
});
