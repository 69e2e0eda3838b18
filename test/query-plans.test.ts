import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { assertIndexed, plansOf } from './helpers/query-plans.js';
import { accountsForLoginPage, revokeRefreshFamily } from '../src/products/login/store.js';
import { revokeTokens } from '../src/store/tokens.js';
import { deleteLink } from '../src/store/links.js';
import { EXPIRED_KEPT_MS, sweepExpired } from '../src/store/expiry.js';
import { forEachStore } from './helpers/harness.js';
import { countRelations } from '../src/products/channel/store.js';

/**
 * Statements whose cost must grow with what they touch, never with the table (DESIGN.md,
 * "Fast"), each checked by its plan (helpers/query-plans.ts says how).
 */

forEachStore('Query plans: cost grows with the page, never with the table', (h) => {
  it('the people of the login page (and of the sharer and Story share pages) are read by an index, without a sort', async () => {
    const plans = await plansOf(h.store.db, (db) => accountsForLoginPage(db, 50));
    assertIndexed(plans);
  });

  it("a refresh token's revocation (a replayed code) finds its access tokens by an index", async () => {
    const plans = await plansOf(h.store.db, (db) => revokeRefreshFamily(db, 'not-a-hash'));
    assertIndexed(plans);
  });

  it("a channel's followers and blocks are counted from where each kind starts in an index, not through all its relations", async () => {
    const plans = await plansOf(h.store.db, (db) => countRelations(db, 1));
    for (const plan of plans) assertIndexed([plan], /channel_relations_kind/);
  });

  it("logout and unlink find the person's tokens, codes and AGTs of the app by an index", async () => {
    const app = await h.createApp();
    const person = await h.createAccount();
    await h.token(app, person);
    assertIndexed(await plansOf(h.store.db, (db) => revokeTokens(db, app.id, person.id)));
    assertIndexed(await plansOf(h.store.db, (db) => deleteLink(db, app.id, person.id)));
  });

  it('the expiry sweep finds what it removes by an index, on every table it sweeps', async () => {
    const app = await h.createApp();
    const person = await h.createAccount();
    const expired = h.clock.now() - EXPIRED_KEPT_MS - 60_000;
    await h.store.db.insertInto('access_tokens').values({ token_hash: 'old', app_id: app.id, account_id: person.id, refresh_hash: null, expires_at: expired, created_at: expired }).execute();
    const swept = h.app.platform.tables.filter((t) => t.expiresAt);
    assert.deepEqual(
      swept.map((t) => t.name),
      ['access_tokens', 'refresh_tokens', 'auth_codes', 'login_sessions', 'agts', 'login_auth_transactions', 'talk_quota_counters', 'sharing_images', 'sharing_requests'],
    );
    const plans = await plansOf(h.store.db, (db) => sweepExpired({ ...h.store, db }, swept, h.clock.now(), { wait: true }));
    assert.ok(plans.some((p) => /^delete/i.test(p.sql)), 'a batch was deleted');
    assertIndexed(plans);
  });
});

forEachStore('Query plans: the checker itself', (h) => {
  it('refuses a table read whole (bare or through a whole index) and a sort, on both stores; passes an index search', async () => {
    const db = h.store.db;
    assert.throws(() => assertIndexed([]), /no statement ran/);
    await assert.rejects(async () => assertIndexed(await plansOf(db, (d) => d.selectFrom('accounts').selectAll().where('gender', '=', 'female').execute())), /a full scan/);
    await assert.rejects(async () => assertIndexed(await plansOf(db, (d) => d.selectFrom('talk_messages').select('id').orderBy('template_type').limit(5).execute())), /a full scan|a sort|a whole index read/);
    await assert.rejects(async () => assertIndexed(await plansOf(db, (d) => d.selectFrom('accounts').select('id').where('id', '>', 0).orderBy('birthday').limit(5).execute())), /a full scan|a sort|a whole index read/);
    // A whole index read without a LIMIT is a full scan too (SQLite: SCAN … USING INDEX;
    // PostgreSQL: an Index Scan with no Index Cond).
    await assert.rejects(async () => assertIndexed(await plansOf(db, (d) => d.selectFrom('accounts').select(['id', 'nickname']).orderBy('nickname').orderBy('id').execute())), /a full scan|a sort|a whole index read/);
    // A LIMIT lets a walk of an index in its order pass only where it bounds that walk: not the
    // LIMIT of a subquery beside a walk of the whole index, nor one above a count that reads
    // every entry first. A page read in the index's order passes.
    const pageOfAll = (d: typeof db) => d.selectFrom('accounts').select(['id', 'nickname']).orderBy('id');
    const limitElsewhere = (d: typeof db) => pageOfAll(d).where('id', '<>', (eb) => eb.selectFrom('apps').select('id').where('id', '=', 1).limit(1)).execute();
    await assert.rejects(async () => assertIndexed(await plansOf(db, limitElsewhere)), /a full scan|a whole index read/);
    const countedFirst = (d: typeof db) => d.selectFrom('accounts').select((eb) => eb.fn.countAll().as('n')).where('nickname', '<>', 'x').limit(1).execute();
    await assert.rejects(async () => assertIndexed(await plansOf(db, countedFirst)), /a full scan|a whole index read/);
    assertIndexed(await plansOf(db, (d) => pageOfAll(d).limit(5).execute()), /autoindex_accounts|accounts_pkey/);
    assertIndexed(await plansOf(db, (d) => d.selectFrom('accounts').selectAll().where('id', '=', 1).execute()), /autoindex_accounts|accounts_pkey/);
    await assert.rejects(async () => assertIndexed(await plansOf(db, (d) => d.selectFrom('accounts').selectAll().where('id', '=', 1).execute()), /no_such_index/), /no plan uses the index/);
    // The index is looked for in the plan's lines, never in the statement: a read by the primary
    // key whose statement happens to spell the expected index's name does not pass for that index.
    await assert.rejects(async () => assertIndexed(await plansOf(db, (d) => d.selectFrom('accounts').select('nickname as accounts_nickname').where('id', '=', 1).execute()), /accounts_nickname/), /no plan uses the index/);
  });
});
