import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { App } from './apps.js';
import { type Link, type NewLink, changeLink, createLinkIfAbsent, findLink } from './links.js';

/**
 * Records what a person agreed to for an app, linking them first when this is their first
 * authorization. Shared by the consent page, the control plane's token issuing and seeds.
 */
export async function grantConsent(
  db: Kysely<DB>,
  app: App,
  accountId: number,
  grant: { scopes: string[]; terms?: string[]; by?: 'KAUTH' | 'KAPI' },
  now: number,
): Promise<Link> {
  const agreement = () => ({ agreed_at: now, agreed_by: grant.by ?? 'KAUTH' }) as const;
  const created = await linkIfNot(db, app, accountId, now, {
    scopes: Object.fromEntries(grant.scopes.map((s) => [s, now])),
    terms: Object.fromEntries((grant.terms ?? []).map((t) => [t, agreement()])),
  });
  if (created) return created;
  const link = await changeLink(db, app.id, accountId, (existing) => {
    let changed = false;
    for (const scope of grant.scopes) {
      if (existing.scopes[scope] === undefined) {
        existing.scopes[scope] = now;
        changed = true;
      }
    }
    for (const tag of grant.terms ?? []) {
      if (!existing.terms[tag]) {
        existing.terms[tag] = agreement();
        changed = true;
      }
    }
    return changed;
  });
  // Unlinked between the two steps: link again.
  return link ?? grantConsent(db, app, accountId, grant, now);
}

/** Links a person to an app with nothing agreed yet, unless they are linked. */
export async function ensureLinked(db: Kysely<DB>, app: App, accountId: number, now: number): Promise<void> {
  await linkIfNot(db, app, accountId, now, {});
}

/**
 * The new link, or undefined when the person was linked already (or was linked at the same
 * moment by another request, which a change then builds on).
 */
async function linkIfNot(db: Kysely<DB>, app: App, accountId: number, now: number, agreed: Pick<NewLink, 'scopes' | 'terms'>): Promise<Link | undefined> {
  if (await findLink(db, app.id, accountId)) return undefined;
  return createLinkIfAbsent(db, app.id, accountId, now, { signedUp: !app.manualSignup, ...agreed });
}

/** The scopes an app asks for by default: every consent item it has not disabled. */
export function configuredScopes(app: App): string[] {
  return Object.entries(app.consentItems)
    .filter(([, setting]) => setting !== 'disabled')
    .map(([id]) => id);
}
