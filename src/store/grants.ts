import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { App } from './apps.js';
import { type Link, createLink, findLink, saveLink } from './links.js';

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
  const existing = await findLink(db, app.id, accountId);
  if (!existing) {
    return createLink(db, app.id, accountId, now, {
      signedUp: !app.manualSignup,
      scopes: Object.fromEntries(grant.scopes.map((s) => [s, now])),
      terms: Object.fromEntries((grant.terms ?? []).map((t) => [t, { agreed_at: now, agreed_by: grant.by ?? 'KAUTH' }])),
    });
  }
  let changed = false;
  for (const scope of grant.scopes) {
    if (existing.scopes[scope] === undefined) {
      existing.scopes[scope] = now;
      changed = true;
    }
  }
  for (const tag of grant.terms ?? []) {
    if (!existing.terms[tag]) {
      existing.terms[tag] = { agreed_at: now, agreed_by: grant.by ?? 'KAUTH' };
      changed = true;
    }
  }
  if (changed) await saveLink(db, existing);
  return existing;
}

/** The scopes an app asks for by default: every consent item it has not disabled. */
export function configuredScopes(app: App): string[] {
  return Object.entries(app.consentItems)
    .filter(([, setting]) => setting !== 'disabled')
    .map(([id]) => id);
}
