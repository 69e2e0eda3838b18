import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { escapeHtml } from '../../core/html.js';
import { sendPage } from '../../core/http.js';
import { layout } from '../../core/pages.js';
import type { Platform } from '../../core/platform.js';
import { type SignedIn, logIn, sessionPerson } from './flow.js';
import { accountsForLoginPage, deleteLoginSession } from './store.js';

/**
 * Signing in to Kakao for another Kakao page (accounts.kakao.com/login?continue=…): the
 * sharer sends a person who is not signed in here, and they come back to `continue` (a path
 * on this origin) with the same login session `/oauth/authorize` uses.
 */

export const SESSION_COOKIE = 'kapibara_session';
const LOGIN_PAGE_PEOPLE = 50;

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** The person signed in to Kakao in this browser (the login session cookie), and that session. */
export async function signedIn(platform: Platform, req: FastifyRequest): Promise<(SignedIn & { session: string }) | undefined> {
  const session = readCookie(req, SESSION_COOKIE);
  const person = await sessionPerson(platform, session);
  return person && session ? { ...person, session } : undefined;
}

/** Only a path on this origin: never another site (`//evil`, `/\evil`, `https://…`). */
function safeContinue(value: string | undefined): string | undefined {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.includes('\\') || /[\u0000-\u001f]/.test(value)) return undefined;
  return value;
}

/** Where a page sends a person to sign in before coming back to `path`. */
export function loginUrl(path: string): string {
  return `/login?${new URLSearchParams({ continue: path })}`;
}

function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

function page(input: { next: string; people: { id: number; nickname: string; email: string }[]; email?: string; error?: string }): string {
  const people = input.people
    .map(
      (a) => `<form method="post" action="/login">${hidden('continue', input.next)}${hidden('account_id', String(a.id))}
<button class="person" type="submit" data-account-id="${a.id}"><span>${escapeHtml(a.nickname)}</span><small>${escapeHtml(a.email)}</small></button></form>`,
    )
    .join('\n');
  return layout(
    'Kakao Account',
    `<h1>Log in to Kakao</h1><p class="sub">to continue (simulated by Kapibara)</p>
${input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : ''}
<h2>Pick a person</h2>
${people || '<p class="sub">No simulated people yet: create one through the control plane.</p>'}
<h2>Or sign in with email</h2>
<form method="post" action="/login" id="email-login">${hidden('continue', input.next)}
<label for="email">Email</label><input type="email" id="email" name="email" autocomplete="username" value="${escapeHtml(input.email ?? '')}" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions"><button class="primary" type="submit">Log In</button></div></form>`,
  );
}

/** A login form may only come from this origin's own page (or from no page: a test client). */
function fromOwnPage(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = req.headers.origin;
  return origin === undefined || origin.toLowerCase() === `${req.protocol}://${req.host}`.toLowerCase();
}

export async function continueLoginPages(app: FastifyInstance): Promise<void> {
  const platform = app.platform;
  const people = () => accountsForLoginPage(platform.db, LOGIN_PAGE_PEOPLE);
  const refuse = async (reply: FastifyReply, status: number, next: string, error: string, email?: string) =>
    sendPage(reply, status, page({ next, people: await people(), email, error }));

  app.get('/login', async (req, reply) => {
    const next = safeContinue((req.query as Record<string, string | undefined>).continue);
    if (!next) return refuse(reply, 400, '/', 'This login link has no valid continue address (a path on this site).');
    return sendPage(reply, 200, page({ next, people: await people() }));
  });

  app.post('/login', async (req, reply) => {
    const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string | undefined>;
    const next = safeContinue(form.continue);
    if (!next) return refuse(reply, 400, '/', 'This login form has no valid continue address (a path on this site).');
    if (!fromOwnPage(req)) return refuse(reply, 403, next, 'This login form was sent by another site’s page: log in here instead.');
    const person = await logIn(platform, { accountId: form.account_id, email: form.email, password: form.password });
    if ('refused' in person) return refuse(reply, 401, next, person.refused, form.email);
    const previous = readCookie(req, SESSION_COOKIE);
    if (previous) await deleteLoginSession(platform.db, previous);
    const secure = req.protocol === 'https' ? '; Secure' : '';
    reply.header('set-cookie', `${SESSION_COOKIE}=${person.newSession}; Path=/; HttpOnly; SameSite=Lax${secure}`);
    return reply.header('cache-control', 'no-store').redirect(next, 303);
  });
}
