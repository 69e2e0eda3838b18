import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { CONTROL_HEADERS, forEachStore } from './helpers/harness.js';

/**
 * Control-plane writes made at the same time as each other or as the calls they affect, on
 * both stores. PostgreSQL runs requests side by side: checks that read and then write (a key
 * no other app holds) let two requests through at once (a races review: two apps holding one
 * key in 5 of 10 rounds).
 */

const ROUNDS = 10;

forEachStore('control-plane writes at the same time', (h) => {
  const post = (body: Record<string, unknown>) => h.inject({ method: 'POST', url: '/_kapibara/v1/apps', headers: CONTROL_HEADERS, payload: body });

  it('two apps made at once with one key, of two kinds: one is made, the other is 409 naming the app that has it', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const key = `crosskey${round}`.padEnd(32, '0');
      const answers = await Promise.all([post({ rest_api_key: key }), post({ admin_key: key })]);
      const made = answers.filter((res) => res.statusCode === 201);
      assert.equal(made.length, 1, `round ${round}: ${answers.map((res) => `${res.statusCode} ${res.body}`).join(' | ')}`);
      const refused = answers.find((res) => res.statusCode !== 201)!;
      assert.deepEqual([refused.statusCode, refused.json()], [409, { error: `app: duplicate key: ${key} is already a key of app ${made[0].json().id}` }]);
    }
  });

  it('an app given a key while another app is made with it: one of the two gets it', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const key = `changekey${round}`.padEnd(32, '0');
      const existing = await h.createApp();
      const answers = await Promise.all([
        h.inject({ method: 'PATCH', url: `/_kapibara/v1/apps/${existing.id}`, headers: CONTROL_HEADERS, payload: { native_key: key } }),
        post({ javascript_key: key }),
      ]);
      const ok = answers.filter((res) => res.statusCode < 300);
      assert.equal(ok.length, 1, `round ${round}: ${answers.map((res) => `${res.statusCode} ${res.body}`).join(' | ')}`);
      const holder = ok[0].json().id as number;
      const refused = answers.find((res) => res.statusCode >= 300)!;
      assert.deepEqual([refused.statusCode, refused.json()], [409, { error: `app: duplicate key: ${key} is already a key of app ${holder}` }]);
    }
  });
});
