import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { route } from '../../core/route.js';
import { sendPage as sendHtml } from '../../core/http.js';
import { PageError } from '../../core/errors.js';
import { writtenAsAfterDeletes } from '../../core/pages.js';
import { FormRefused, checkForm, formToken, redirectSource } from '../../core/security.js';
import type { RawParams } from '../../core/params.js';
import { type AuthorizeRequest, type Query, LoginPageError, checkPageClient, continueQuery, one, readAuthorizeRequest, redirectLocation, resultFor } from './authorize.js';
import { type Outcome, type Refused, type SignedIn, answerConsent, decide, identify, logIn, sessionPerson, signUp } from './flow.js';
import { consentPage, formRefusedPage, loginPage, loginPagePolicy, signupPage } from './pages.js';
import { accountsForLoginPage, deleteLoginSession } from './store.js';
import { exchangeToken, issueAgt, type Form } from './token.js';
import { discoveryDocument, idTokenInfo } from './oidc.js';

/** The token response; absent optional fields are left out. */
const TokenResponseSchema = Type.Object({
  token_type: Type.String(),
  access_token: Type.String(),
  id_token: Type.Optional(Type.String()),
  expires_in: Type.Integer(),
  refresh_token: Type.Optional(Type.String()),
  refresh_token_expires_in: Type.Optional(Type.Integer()),
  scope: Type.Optional(Type.String()),
});

const AgtResponseSchema = Type.Object({ agt: Type.String() });

/** Form fields (body, or query for POST params sent there), one value each. */
function formOf(raw: RawParams): Form {
  const out: Form = {};
  for (const key of Object.keys(raw)) out[key] = one(raw, key);
  return out;
}

/** Kakao Login (kauth, wire facts §2): literal Kakao paths, OAuth errors. */
export const loginRoutes = [
  route({
    method: 'POST',
    url: '/oauth/token',
    surface: 'kauth',
    auth: 'none',
    response: TokenResponseSchema,
    headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
    handler: (call, raw) => exchangeToken(call.platform, formOf(raw), { issuer: call.origin, authorization: call.authorization, pageOrigin: call.pageOrigin, ka: call.ka }),
  }),
  route({
    method: 'POST',
    url: '/api/agt',
    surface: 'kauth',
    auth: 'none',
    response: AgtResponseSchema,
    handler: (call, raw) => issueAgt(call.platform, formOf(raw)),
  }),
  route({ method: 'POST', url: '/oauth/tokeninfo', surface: 'kauth', auth: 'none', handler: (call, raw) => idTokenInfo(call.platform, formOf(raw).id_token) }),
  route({ method: 'GET', url: '/.well-known/openid-configuration', surface: 'kauth', auth: 'none', handler: (call) => discoveryDocument(call.origin) }),
  route({ method: 'GET', url: '/.well-known/jwks.json', surface: 'kauth', auth: 'none', handler: (call) => ({ keys: [call.platform.keys.publicJwk] }) }),
];

/** How many simulated people the login page lists (the rest sign in with email). */
const LOGIN_PAGE_PEOPLE = 50;
export const SESSION_COOKIE = 'kapibara_session';

/**
 * The browser side (surface `page`): the login, sign-up and consent pages and the redirects
 * back to the app. Errors are thrown as page errors or redirects (authorize.ts) and sent by
 * the one error handler; a form that cannot go on (`Refused`) is shown again.
 */
export async function loginPages(app: FastifyInstance): Promise<void> {
  const platform = app.platform;
  const request = (raw: string) => readAuthorizeRequest(platform, raw);

  app.get('/oauth/authorize', async (req, reply) => {
    const raw = rawQuery(req);
    const authorize = await request(raw);
    const person = await identify(platform, authorize, readCookie(req, SESSION_COOKIE));
    let outcome: Outcome | undefined;
    const decided = await writtenAsAfterDeletes(
      async () => (outcome = await decide(platform, authorize, person)),
      () => stillThere(raw, person?.newSession ?? readCookie(req, SESSION_COOKIE), async (again) => send(req, reply, again, await decide(platform, again, undefined))),
    );
    return decided ? send(req, reply, authorize, outcome!) : reply;
  });

  app.post('/oauth/authorize/login', async (req, reply) => {
    const form = bodyForm(req);
    await checkOwnForm(req, { purpose: 'login', request: form.request ?? '' }, form);
    const authorize = await request(form.request ?? '');
    const person = await logIn(platform, { accountId: form.account_id, email: form.email, password: form.password });
    if (isRefused(person)) return sendLoginPage(req, reply, authorize, 401, { email: form.email, error: person.refused });
    return startSession(req, reply, authorize, person);
  });

  app.post('/oauth/authorize/signup', async (req, reply) => {
    const form = bodyForm(req);
    await checkOwnForm(req, { purpose: 'signup', request: form.request ?? '' }, form);
    const authorize = await request(form.request ?? '');
    const person = await signUp(platform, { email: form.email, password: form.password, nickname: form.nickname });
    if (isRefused(person)) {
      const csrfToken = await formToken(req, reply, { purpose: 'signup', request: authorize.raw });
      const page = signupPage({ appName: authorize.app.name, request: authorize.raw, csrfToken, email: form.email, nickname: form.nickname, error: person.refused });
      return sendPage(reply, 400, page, pagePolicy(authorize));
    }
    return startSession(req, reply, authorize, person);
  });

  app.post('/oauth/authorize/consent', async (req, reply) => {
    const form = bodyForm(req);
    const body = (req.body ?? {}) as Query;
    const session = readCookie(req, SESSION_COOKIE);
    await checkOwnForm(req, { purpose: 'consent', request: form.request ?? '', session }, form);
    const authorize = await request(form.request ?? '');
    const person = await sessionPerson(platform, session);
    // The session ended while the consent page was open: log in again.
    if (!person) return sendLoginPage(req, reply, authorize, 200, { error: 'Your login session ended. Log in again.' });
    let outcome: Outcome | undefined;
    const answered = await writtenAsAfterDeletes(
      async () =>
        (outcome = await answerConsent(platform, authorize, person, {
          agree: form.action === 'agree',
          scopes: list(body.scope),
          terms: list(body.service_terms),
          channels: list(body.channel_public_id),
        })),
      () => stillThere(form.request ?? '', session, (again) => sendLoginPage(req, reply, again, 200, { error: 'Your login session ended. Log in again.' })),
    );
    return answered ? send(req, reply, authorize, outcome!) : reply;
  });

  /**
   * The checks of a login page again, after its write (consent, channels, code, the SDK's
   * result) met a delete: an app gone is its KOE101 page, a channel gone its KOE102 redirect
   * (thrown by reading the request again); the person gone (their session with them) gets
   * `signedOut`, as a call after the delete would. True when everything is still there.
   */
  async function stillThere(raw: string, session: string | undefined, signedOut: (authorize: AuthorizeRequest) => Promise<unknown>): Promise<boolean> {
    const again = await request(raw);
    if (await sessionPerson(platform, session)) return true;
    await signedOut(again);
    return false;
  }

  app.get('/oauth/logout', async (req, reply) => {
    const query = (req.query ?? {}) as Query;
    const { app: target } = await checkPageClient(platform.db, one(query, 'client_id'));
    const logoutRedirectUri = one(query, 'logout_redirect_uri');
    if (!logoutRedirectUri || !target.logoutRedirectUris.includes(logoutRedirectUri) || !URL.canParse(logoutRedirectUri)) {
      throw new LoginPageError('KOE007', `logout_redirect_uri mismatch: ${logoutRedirectUri ?? '(missing)'} is not registered for app ${target.id}.`);
    }
    await endSession(req);
    reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    return reply.redirect(redirectLocation(logoutRedirectUri, { state: one(query, 'state') }), 302);
  });

  /** A new login replaces the browser's previous session, if any; then on with the request. */
  async function startSession(req: FastifyRequest, reply: FastifyReply, authorize: AuthorizeRequest, person: SignedIn) {
    await endSession(req);
    setSession(req, reply, person.newSession!);
    return reply.redirect(`/oauth/authorize?${continueQuery(authorize.raw)}`, 303);
  }

  async function endSession(req: FastifyRequest): Promise<void> {
    const session = readCookie(req, SESSION_COOKIE);
    if (session) await deleteLoginSession(platform.db, session);
  }

  async function send(req: FastifyRequest, reply: FastifyReply, authorize: AuthorizeRequest, outcome: Outcome) {
    switch (outcome.kind) {
      case 'login':
        if (outcome.signup) {
          const csrfToken = await formToken(req, reply, { purpose: 'signup', request: authorize.raw });
          return sendPage(reply, 200, signupPage({ appName: authorize.app.name, request: authorize.raw, csrfToken, email: authorize.loginHint }), pagePolicy(authorize));
        }
        return sendLoginPage(req, reply, authorize, 200, { email: authorize.loginHint });
      case 'consent': {
        if (outcome.person.newSession) setSession(req, reply, outcome.person.newSession);
        const session = outcome.person.newSession ?? readCookie(req, SESSION_COOKIE);
        const page = consentPage({
          appName: authorize.app.name,
          request: authorize.raw,
          csrfToken: await formToken(req, reply, { purpose: 'consent', request: authorize.raw, session }),
          nickname: outcome.person.account.nickname,
          scopes: outcome.pending.scopes,
          terms: outcome.pending.terms,
          channels: outcome.pending.channels,
        });
        return sendPage(reply, 200, page, pagePolicy(authorize));
      }
      case 'redirect': {
        if (outcome.newSession) setSession(req, reply, outcome.newSession);
        const result = resultFor(authorize, outcome.params);
        if ('page' in result) return sendPage(reply, 200, result.page, result.policy);
        return reply.header('cache-control', 'no-store').redirect(result.location, 302);
      }
    }
  }

  async function sendLoginPage(req: FastifyRequest, reply: FastifyReply, authorize: AuthorizeRequest, status: number, extra: { email?: string; error?: string }) {
    const accounts = await accountsForLoginPage(platform.db, LOGIN_PAGE_PEOPLE);
    const csrfToken = await formToken(req, reply, { purpose: 'login', request: authorize.raw });
    return sendPage(reply, status, loginPage({ appName: authorize.app.name, request: authorize.raw, accounts, csrfToken, ...extra }), pagePolicy(authorize));
  }
}

/** The forms' CSRF and Origin check (core/security.ts); a refused form gets a page saying why. */
async function checkOwnForm(req: FastifyRequest, binding: Parameters<typeof checkForm>[1], form: Form): Promise<void> {
  try {
    await checkForm(req, binding, form.csrf_token);
  } catch (err) {
    if (err instanceof FormRefused) throw new PageError(403, formRefusedPage(err.message, form.request), err.message, { 'content-security-policy': loginPagePolicy([]) });
    throw err;
  }
}

/** Every login page has a strict CSP (forms may go to Kapibara and on to the app's redirect URI) and refuses framing. */
function sendPage(reply: FastifyReply, status: number, html: string, policy = loginPagePolicy([])) {
  return sendHtml(reply.header('content-security-policy', policy), status, html);
}

function pagePolicy(authorize: AuthorizeRequest): string {
  const target = redirectSource(authorize.redirectUri);
  return loginPagePolicy(target ? [target] : []);
}

function isRefused(value: SignedIn | Refused): value is Refused {
  return 'refused' in value;
}

export function setSession(req: FastifyRequest, reply: FastifyReply, value: string): void {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  reply.header('set-cookie', `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax${secure}`);
}

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

function rawQuery(req: FastifyRequest): string {
  const i = req.url.indexOf('?');
  return i < 0 ? '' : req.url.slice(i + 1);
}

/** The login forms' fields: query, then body (body wins), one value each. */
function bodyForm(req: FastifyRequest): Form {
  const out: Form = {};
  const sources = [(req.query ?? {}) as Query, (req.body && typeof req.body === 'object' ? req.body : {}) as Query];
  for (const source of sources) for (const key of Object.keys(source)) out[key] = one(source, key) ?? out[key];
  return out;
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}
