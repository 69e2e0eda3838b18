import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendPage } from '../../core/http.js';
import { PageError } from '../../core/errors.js';
import { FormRefused, checkForm, formToken } from '../../core/security.js';
import { escapeHtml } from '../../core/html.js';
import { layout } from '../../core/pages.js';
import type { Platform } from '../../core/platform.js';
import { findAccountById } from '../../store/accounts.js';
import { type SignedIn, logIn, sessionPerson, signInAs } from './flow.js';
import { SESSION_COOKIE, readCookie, setSession } from './routes.js';
import { formRefusedPage, loginPagePolicy } from './pages.js';
import { accountsForLoginPage, consumeAgt, deleteLoginSession } from './store.js';

/**
 * The Kakao Accounts sign-in page (accounts.kakao.com/login?continue=<url>): what Kakao's
 * own pages (the channel pages, the sharer) send a person to when nobody is signed in in
 * this browser. It starts the same login session as Kakao Login and goes back to
 * `continue`, a path on this origin.
 */

export const ACCOUNTS_LOGIN_PATH = '/login';
const PEOPLE_SHOWN = 50;

/** Where a page sends a person who must sign in first, to come back to `continueTo` (a path on this origin). */
export function loginUrlFor(continueTo: string): string {
  return `${ACCOUNTS_LOGIN_PATH}?continue=${encodeURIComponent(continueTo)}`;
}

/** The person signed in in the browser that made this request, if any. */
export function signedInPerson(platform: Platform, req: FastifyRequest): Promise<SignedIn | undefined> {
  return sessionPerson(platform, readCookie(req, SESSION_COOKIE));
}

/** The login session value of this request's browser (pages bind their CSRF tokens to it). */
export function sessionValueOf(req: FastifyRequest): string | undefined {
  return readCookie(req, SESSION_COOKIE);
}

/**
 * The person an AGT (kauth /api/agt) names for this app, signed in at once in this browser
 * (the cookie is set on `reply`); undefined when the AGT is unknown, used, expired or another app's.
 */
export async function personByAgt(platform: Platform, req: FastifyRequest, reply: FastifyReply, agt: string, appId: number): Promise<SignedIn | undefined> {
  const { db, clock } = platform;
  const accountId = await consumeAgt(db, agt, appId, clock.now());
  const account = accountId === undefined ? undefined : await findAccountById(db, accountId);
  // Deleted since the AGT named them: nobody, as for a used AGT.
  const person = account && (await signInAs(platform, account));
  if (!person) return undefined;
  const previous = readCookie(req, SESSION_COOKIE);
  if (previous) await deleteLoginSession(db, previous);
  setSession(req, reply, person.newSession!);
  return person;
}

const CONTINUE_BASE = 'http://kapibara.invalid';

/**
 * Only a path on this origin: never another site (an open redirect). The value is read as
 * a browser reads a URL (tabs and newlines dropped, `\` as `/`) and given back as the path
 * that reading names, so what the browser follows is what was checked.
 */
function safeContinue(value: unknown): string {
  const text = typeof value === 'string' ? value : Array.isArray(value) ? String(value[value.length - 1]) : '';
  if (!text.startsWith('/') || !URL.canParse(text, CONTINUE_BASE)) return '/';
  const url = new URL(text, CONTINUE_BASE);
  if (url.origin !== CONTINUE_BASE) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}

function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

async function signInPage(platform: Platform, continueTo: string, csrfToken: string, error?: string, email?: string): Promise<string> {
  const accounts = await accountsForLoginPage(platform.db, PEOPLE_SHOWN);
  const people = accounts
    .map(
      (a) => `<form method="post" action="${ACCOUNTS_LOGIN_PATH}">${hidden('continue', continueTo)}${hidden('csrf_token', csrfToken)}${hidden('account_id', String(a.id))}
<button class="person" type="submit" data-account-id="${a.id}"><span>${escapeHtml(a.nickname)}</span><small>${escapeHtml(a.email)}</small></button></form>`,
    )
    .join('\n');
  return layout(
    'Kakao Account',
    `<h1>Sign in to Kakao</h1><p class="sub">to continue (simulated by Kapibara)</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<h2>Pick a person</h2>
${people || '<p class="sub">No simulated people yet: create one through the control plane.</p>'}
<h2>Or sign in with email</h2>
<form method="post" action="${ACCOUNTS_LOGIN_PATH}" id="email-login">${hidden('continue', continueTo)}${hidden('csrf_token', csrfToken)}
<label for="email">Email</label><input type="email" id="email" name="email" autocomplete="username" value="${escapeHtml(email ?? '')}" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions"><button class="primary" type="submit">Log In</button></div></form>`,
  );
}

/** The sign-in form's token: bound to this browser and where the form goes back to. */
const binding = (continueTo: string) => ({ purpose: 'accounts-login', request: continueTo });

/** The page with a strict CSP (forms only to Kapibara; no framing) and a fresh form token. */
async function sendSignIn(platform: Platform, req: FastifyRequest, reply: FastifyReply, status: number, continueTo: string, error?: string, email?: string) {
  const token = await formToken(req, reply, binding(continueTo));
  return sendPage(reply.header('content-security-policy', loginPagePolicy([])), status, await signInPage(platform, continueTo, token, error, email));
}

export async function accountsPages(app: FastifyInstance): Promise<void> {
  const platform = app.platform;
  app.get(ACCOUNTS_LOGIN_PATH, async (req, reply) => {
    const continueTo = safeContinue((req.query as Record<string, unknown>).continue);
    return sendSignIn(platform, req, reply, 200, continueTo);
  });
  app.post(ACCOUNTS_LOGIN_PATH, async (req, reply) => {
    const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string | undefined>;
    const continueTo = safeContinue(form.continue);
    try {
      await checkForm(req, binding(continueTo), typeof form.csrf_token === 'string' ? form.csrf_token : undefined);
    } catch (err) {
      if (err instanceof FormRefused) throw new PageError(403, formRefusedPage(err.message, undefined), err.message, { 'content-security-policy': loginPagePolicy([]) });
      throw err;
    }
    // PostgreSQL refuses NUL in text: such an email or id matches nobody.
    if ([form.account_id, form.email, form.password].some((v) => typeof v === 'string' && v.includes('\u0000'))) {
      return sendSignIn(platform, req, reply, 401, continueTo, 'Incorrect email or password. Check and try again.');
    }
    const person = await logIn(platform, { accountId: form.account_id, email: form.email, password: form.password });
    if ('refused' in person) return sendSignIn(platform, req, reply, 401, continueTo, person.refused, form.email);
    const previous = readCookie(req, SESSION_COOKIE);
    if (previous) await deleteLoginSession(platform.db, previous);
    setSession(req, reply, person.newSession!);
    return reply.header('cache-control', 'no-store').redirect(continueTo, 303);
  });
}
