import { describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { buildApp } from '../src/app.js';
import { BACKSTOP_PAGES } from '../src/db/checkpointer.js';

/**
 * A SQLite database file's WAL is checkpointed by a worker thread (db/checkpointer.ts), not
 * by the request that happens to commit: what is sent reaches the database file without any
 * request doing it, survives a restart, and the WAL stays bounded.
 */
describe('SQLite file: checkpoints in the background', () => {
  it('sent messages reach the database file without a request checkpointing, and survive reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kapibara-checkpoint-'));
    const file = join(dir, 'kapibara.sqlite');
    try {
      let app = await buildApp({ sqlitePath: file });
      const control = async (method: 'POST' | 'GET', url: string, payload?: object) => {
        const res = await app.inject({ method, url: `/_kapibara/v1${url}`, payload });
        assert.ok(res.statusCode < 300, res.body);
        return res.json();
      };
      const created = await control('POST', '/apps', { web_domains: ['http://localhost:3000'], consent_items: { profile_nickname: 'required', talk_message: 'optional' } });
      const person = await control('POST', '/accounts', { nickname: 'Writer' });
      const t = await control('POST', `/apps/${created.id}/users/${person.id}/tokens`, {});
      const text = 'x'.repeat(180);
      const template = JSON.stringify({ object_type: 'text', text, link: { web_url: 'http://localhost:3000' } });
      const before = statSync(file).size;
      const sends = 600;
      const answers = await Promise.all(
        Array.from({ length: sends }, () =>
          app.inject({
            method: 'POST',
            url: '/v2/api/talk/memo/default/send',
            headers: { authorization: `Bearer ${t.access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
            payload: new URLSearchParams({ template_object: template }).toString(),
          }),
        ),
      );
      assert.deepEqual(answers.filter((a) => a.statusCode !== 200).map((a) => a.body).slice(0, 1), []);
      // The connection that commits checkpoints only at the backstop, far beyond these pages.
      const pragma = await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(app.platform.db);
      assert.equal(pragma.rows[0].wal_autocheckpoint, BACKSTOP_PAGES);
      // Within a few of the worker's turns, the messages are in the database file itself.
      const grown = 400 * sends;
      const until = Date.now() + 10_000;
      while (statSync(file).size < before + grown && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.ok(statSync(file).size >= before + grown, `database file ${statSync(file).size} bytes, was ${before}: not checkpointed`);
      await app.close();

      app = await buildApp({ sqlitePath: file });
      assert.equal((await control('GET', `/accounts/${person.id}/messages?limit=1`)).total_count, sends);
      await app.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
