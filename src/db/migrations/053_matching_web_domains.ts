import type { Kysely } from 'kysely';
import { webDomainProblem } from '../../core/fetcher.js';

/**
 * `web_domains` entries no page can ever match (a host with a port but no scheme, a
 * wildcard, another scheme, junk: core/fetcher.ts webDomainProblem) are refused by the
 * control plane and by state import from now on. Ones stored before are removed, so that the
 * store's own export can be imported again. They never matched a page, so nothing an app
 * does changes.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const rows: { id: number; web_domains: string }[] = await db.selectFrom('apps').select(['id', 'web_domains']).execute();
  for (const row of rows) {
    const domains = JSON.parse(row.web_domains) as unknown[];
    const kept = domains.filter((d) => typeof d === 'string' && webDomainProblem(d) === undefined);
    if (kept.length !== domains.length) {
      await db.updateTable('apps').set({ web_domains: JSON.stringify(kept) }).where('id', '=', row.id).execute();
    }
  }
}
