import type { Platform } from '../../core/platform.js';
import { OAuthError } from '../../core/errors.js';
import { findAccountById, findAccountByEmail, createAccount, type Account } from '../../store/accounts.js';
import { findLink } from '../../store/links.js';
import { grantConsent } from '../../store/grants.js';
import { verifyPassword } from '../../core/passwords.js';
import { LIMITS } from '../../control/limits.js';
import { referenceGone } from '../../db/dialect.js';
import {
  type AuthorizeRequest,
  type PendingConsent,
  authorizeRedirectError,
  channelItem,
  chosenGrant,
  codeScopes,
  pendingConsent,
  requestedScopes,
} from './authorize.js';
import { consumeAgt, createCode, createLoginSession, findLoginSession } from './store.js';
import { rememberForPolling } from './sdk-results.js';
import { addChannel, channelsNotRelated } from '../channel/index.js';

/**
 * The login flow after the request is checked: who the person is (AGT, session or a login
 * form), what they still have to agree to, and the code that goes back to the app.
 * Operations return outcomes; the routes turn them into pages and redirects.
 */

/** The person signed in to Kapibara in this browser (not an API caller: see core/auth `Call`), and since when. */
export interface SignedIn {
  account: Account;
  authTime: number;
  /** Set when this step started a new login session: the cookie value to send. */
  newSession?: string;
}

export type Outcome =
  | { kind: 'login'; signup: boolean }
  | { kind: 'consent'; person: SignedIn; pending: PendingConsent }
  | { kind: 'redirect'; redirectUri: string; params: Record<string, string | undefined>; newSession?: string };

/** Identifies the person: an AGT first, then the login session unless a prompt forces a login. */
export async function identify(platform: Platform, req: AuthorizeRequest, sessionValue: string | undefined): Promise<SignedIn | undefined> {
  const { db, clock } = platform;
  if (req.agt) {
    const accountId = await consumeAgt(db, req.agt, req.app.id, clock.now());
    const account = accountId === undefined ? undefined : await findAccountById(db, accountId);
    const person = account && (await signInAs(platform, account));
    if (person) return person;
  }
  if (req.prompts.has('login') || req.prompts.has('select_account') || req.prompts.has('create')) return undefined;
  return sessionPerson(platform, sessionValue);
}

/**
 * Starts a login session for `account`: the person signed in from now. Undefined when the
 * person was deleted after they were found (the session's insert refused by its foreign key):
 * the page answers as for a person who does not exist.
 */
export async function signInAs(platform: Platform, account: Account): Promise<SignedIn | undefined> {
  const { db, clock } = platform;
  try {
    return { account, authTime: clock.now(), newSession: await createLoginSession(db, account.id, clock.now()) };
  } catch (err) {
    if (referenceGone(err) && !(await findAccountById(db, account.id))) return undefined;
    throw err;
  }
}

/** The person of an existing login session, if it is still valid. */
export async function sessionPerson(platform: Platform, sessionValue: string | undefined): Promise<SignedIn | undefined> {
  if (!sessionValue) return undefined;
  const session = await findLoginSession(platform.db, sessionValue, platform.clock.now());
  const account = session && (await findAccountById(platform.db, session.accountId));
  return account && session ? { account, authTime: session.createdAt } : undefined;
}

/** What GET /oauth/authorize shows or does for this person (or nobody yet). */
export async function decide(platform: Platform, req: AuthorizeRequest, person: SignedIn | undefined): Promise<Outcome> {
  if (!person) {
    if (req.prompts.has('none')) throw await redirectError(platform, req, 'login_required', 'user authentication is required (prompt=none).');
    return { kind: 'login', signup: req.prompts.has('create') };
  }
  const link = await findLink(platform.db, req.app.id, person.account.id);
  const pending = pendingConsent(req, link);
  // Channels are offered on a consent page shown for consent items or terms; alone they show none.
  if (pending.scopes.length === 0 && pending.terms.length === 0) return approve(platform, req, person, { scopes: [], terms: [], channels: [] });
  if (req.prompts.has('none')) throw await redirectError(platform, req, 'consent_required', 'user consent is required (prompt=none).');
  return { kind: 'consent', person, pending: await withChannels(platform, req, person, pending) };
}

/** The requested channels the person has neither added nor blocked, offered on the consent page. */
async function withChannels(platform: Platform, req: AuthorizeRequest, person: SignedIn, pending: PendingConsent): Promise<PendingConsent> {
  const channels = await channelsNotRelated(platform, req.channels, person.account.id);
  return { ...pending, channels: channels.map(channelItem) };
}

/** Agree or Cancel on the consent page. */
export async function answerConsent(
  platform: Platform,
  req: AuthorizeRequest,
  person: SignedIn,
  answer: { agree: boolean; scopes: string[]; terms: string[]; channels: string[] },
): Promise<Outcome> {
  if (!answer.agree) throw await redirectError(platform, req, 'access_denied', 'User denied access');
  const link = await findLink(platform.db, req.app.id, person.account.id);
  const pending = await withChannels(platform, req, person, pendingConsent(req, link));
  return approve(platform, req, person, chosenGrant(pending, answer));
}

/**
 * Records the consent (linking on first consent), adds the chosen channels and sends a fresh
 * code back to the app: one transaction, so that a delete meeting it (the app, the person, a
 * channel) leaves all of the consent stored or none of it. A write refused by a foreign key
 * rolls every other back, and the page answers as after the delete (routes.ts stillThere);
 * on PostgreSQL a delete of the person or the app that comes once the link is written waits
 * for the whole consent, and then takes it with them.
 */
async function approve(platform: Platform, req: AuthorizeRequest, person: SignedIn, grant: { scopes: string[]; terms: string[]; channels: string[] }): Promise<Outcome> {
  const { db, clock } = platform;
  const openid = requestedScopes(req).includes('openid') ? ['openid'] : [];
  const accountId = person.account.id;
  const code = await db.transaction().execute(async (tx) => {
    const link = await grantConsent(tx, req.app, accountId, { scopes: [...grant.scopes, ...openid], terms: grant.terms, by: 'KAUTH' }, clock.now());
    for (const channel of req.channels) if (grant.channels.includes(channel.publicId)) await addChannel(platform, channel.id, accountId, tx);
    const code = await createCode(
      tx,
      {
        appId: req.app.id,
        accountId,
        redirectUri: req.redirectUri,
        scopes: codeScopes(req, link),
        codeChallenge: req.codeChallenge,
        codeChallengeMethod: req.codeChallengeMethod,
        nonce: req.nonce,
        authTime: person.authTime,
      },
      clock.now(),
    );
    await rememberForPolling(platform, req, { code, state: req.state }, tx);
    return code;
  });
  return { kind: 'redirect', redirectUri: req.redirectUri, params: { code, state: req.state }, newSession: person.newSession };
}

/** Back to the app with an error; an SDK polling for this login gets the same error. */
async function redirectError(platform: Platform, req: AuthorizeRequest, error: string, description: string) {
  await rememberForPolling(platform, req, { error, error_description: description, state: req.state });
  return authorizeRedirectError(req, new OAuthError(error, description));
}

/** A login or sign-up form that cannot go on: shown again with this message. */
export interface Refused {
  refused: string;
}
const refuse = (message: string): Refused => ({ refused: message });

/** The login form: a picked simulated person, or email + password. */
export async function logIn(platform: Platform, form: { accountId?: string; email?: string; password?: string }): Promise<SignedIn | Refused> {
  const { db } = platform;
  const unknown = form.accountId !== undefined ? 'That person does not exist any more. Pick another one.' : 'Incorrect email or password. Check and try again.';
  let account: Account | undefined;
  if (form.accountId !== undefined) {
    account = /^\d+$/.test(form.accountId) ? await findAccountById(db, Number(form.accountId)) : undefined;
    if (!account) return refuse(unknown);
  } else {
    if (!form.email || !form.password) return refuse('Enter your email and password.');
    // Nobody has a password that long: no lookup, no hashing.
    if (form.email.length > LIMITS.email || form.password.length > LIMITS.password) return refuse(unknown);
    account = await findAccountByEmail(db, form.email.trim());
    if (!account || !(await verifyPassword(account.passwordHash, form.password))) return refuse(unknown);
  }
  // Deleted since it was found: refused as a person who does not exist.
  return (await signInAs(platform, account)) ?? refuse(unknown);
}

/** prompt=create: a new simulated person, signed in at once. */
export async function signUp(platform: Platform, form: { email?: string; password?: string; nickname?: string }): Promise<SignedIn | Refused> {
  const { db, clock } = platform;
  const email = form.email?.trim();
  const nickname = form.nickname?.trim();
  if (!email || email.length > LIMITS.email || !/^[^@\s]+@[^@\s]+$/.test(email)) return refuse('Enter a valid email address.');
  if (!form.password) return refuse('Choose a password.');
  if (form.password.length > LIMITS.password) return refuse(`Choose a password of at most ${LIMITS.password} characters.`);
  if (!nickname) return refuse('Choose a nickname.');
  if (nickname.length > LIMITS.nickname) return refuse(`Choose a nickname of at most ${LIMITS.nickname} characters.`);
  if (await findAccountByEmail(db, email)) return refuse('An account with this email already exists. Log in instead.');
  const account = await createAccount(db, { email, password: form.password, nickname }, clock.now());
  return (await signInAs(platform, account)) ?? refuse('The new account was deleted as it was being created. Sign up again.');
}
