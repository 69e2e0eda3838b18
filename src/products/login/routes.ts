import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { originOf } from '../../core/platform.js';
import {
  type AuthorizeRequest,
  type Query,
  type RedirectTarget,
  AuthorizeRedirectError,
  LoginPageError,
  checkClient,
  continueQuery,
  one,
  readAuthorizeRequest,
  redirectLocation,
} from './authorize.js';
import { type Outcome, LoginFailed, answerConsent, decide, identify, logIn, sessionPerson, signUp } from './flow.js';
import { consentPage, errorPage, formRefusedPage, jsSdkResultPage, loginPage, loginPagePolicy, signupPage } from './pages.js';
import { FormRefused, checkForm, formToken, redirectSource } from '../../core/security.js';
import { accountsForLoginPage, deleteLoginSession } from './store.js';
import { exchangeToken, issueAgt, type Form } from './token.js';
import { discoveryDocument, idTokenInfo } from './oidc.js';

/** Kakao Login (kauth): literal Kakao paths, plus the login and consent pages' form targets. */
export default async function loginRoutes(app: FastifyInstance): Promise<void> {
  await app.register(browserRoutes);
  const kauth = { surface: 'kauth' as const };

  app.post('/oauth/token', { config: kauth, schema: { response: { 200: TokenResponseSchema } } }, async (req, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return exchangeToken(app.platform, formOf(req), originOf(req));
  });

  app.post('/api/agt', { config: kauth, schema: { response: { 200: AgtResponseSchema } } }, async (req) => issueAgt(app.platform, formOf(req)));

  app.post('/oauth/tokeninfo', { config: kauth }, async (req) => idTokenInfo(app.platform, formOf(req).id_token));

  app.get('/.well-known/openid-configuration', { config: kauth }, async (req) => discoveryDocument(originOf(req)));

  app.get('/.well-known/jwks.json', { config: kauth }, async () => ({ keys: [app.platform.keys.publicJwk] }));
}

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

/** The browser side: pages, and the redirects back to the app (errors included). */
async function browserRoutes(app: FastifyInstance): Promise<void> {
  const platform = app.platform;

  app.setErrorHandler(async (err, req, reply) => {
    if (err instanceof FormRefused) return sendPage(reply, 403, formRefusedPage(err.message, formOf(req).request));
    if (err instanceof LoginPageError) return sendPage(reply, 400, errorPage(err.errorCode, err.description));
    if (err instanceof AuthorizeRedirectError) {
      const { error, description, errorCode } = err.oauth;
      return sendRedirect(reply, err.target, { error, error_description: description, error_code: errorCode, state: err.target.state });
    }
    throw err;
  });

  app.get('/oauth/authorize', async (req, reply) => {
    const request = await readAuthorizeRequest(platform.db, rawQuery(req));
    const person = await identify(platform, request, readCookie(req, SESSION_COOKIE));
    return send(req, reply, request, await decide(platform, request, person));
  });

  app.post('/oauth/authorize/login', async (req, reply) => {
    const form = formOf(req);
    await checkForm(req, { purpose: 'login', request: form.request ?? '' }, form.csrf_token);
    const request = await readAuthorizeRequest(platform.db, form.request ?? '');
    try {
      const person = await logIn(platform, { accountId: form.account_id, email: form.email, password: form.password });
      await endSession(req);
      setSession(req, reply, person.newSession!);
      return reply.redirect(`/oauth/authorize?${continueQuery(request.raw)}`, 303);
    } catch (err) {
      if (!(err instanceof LoginFailed)) throw err;
      return sendLoginPage(req, reply, request, 401, { email: form.email, error: err.message });
    }
  });

  app.post('/oauth/authorize/signup', async (req, reply) => {
    const form = formOf(req);
    await checkForm(req, { purpose: 'signup', request: form.request ?? '' }, form.csrf_token);
    const request = await readAuthorizeRequest(platform.db, form.request ?? '');
    try {
      const person = await signUp(platform, { email: form.email, password: form.password, nickname: form.nickname });
      await endSession(req);
      setSession(req, reply, person.newSession!);
      return reply.redirect(`/oauth/authorize?${continueQuery(request.raw)}`, 303);
    } catch (err) {
      if (!(err instanceof LoginFailed)) throw err;
      const csrfToken = await formToken(req, reply, { purpose: 'signup', request: request.raw });
      const page = signupPage({ appName: request.app.name, request: request.raw, csrfToken, email: form.email, nickname: form.nickname, error: err.message });
      return sendPage(reply, 400, page, pagePolicy(request));
    }
  });

  app.post('/oauth/authorize/consent', async (req, reply) => {
    const form = formOf(req);
    const body = (req.body ?? {}) as Query;
    const session = readCookie(req, SESSION_COOKIE);
    await checkForm(req, { purpose: 'consent', request: form.request ?? '', session }, form.csrf_token);
    const request = await readAuthorizeRequest(platform.db, form.request ?? '');
    const person = await sessionPerson(platform, session);
    // The session ended while the consent page was open: log in again.
    if (!person) return sendLoginPage(req, reply, request, 200, { error: 'Your login session ended. Log in again.' });
    const outcome = await answerConsent(platform, request, person, {
      agree: form.action === 'agree',
      scopes: list(body.scope),
      terms: list(body.service_terms),
    });
    return send(req, reply, request, outcome);
  });

  app.get('/oauth/logout', async (req, reply) => {
    const query = (req.query ?? {}) as Query;
    const { app: target } = await checkClient(platform.db, one(query, 'client_id'));
    const logoutRedirectUri = one(query, 'logout_redirect_uri');
    if (!logoutRedirectUri || !target.logoutRedirectUris.includes(logoutRedirectUri) || !URL.canParse(logoutRedirectUri)) {
      throw new LoginPageError('KOE007', `logout_redirect_uri mismatch: ${logoutRedirectUri ?? '(missing)'} is not registered for app ${target.id}.`);
    }
    await endSession(req);
    reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    return reply.redirect(redirectLocation(logoutRedirectUri, { state: one(query, 'state') }), 302);
  });

  /** A new login replaces the browser's previous session, if any. */
  async function endSession(req: FastifyRequest): Promise<void> {
    const session = readCookie(req, SESSION_COOKIE);
    if (session) await deleteLoginSession(platform.db, session);
  }

  async function send(req: FastifyRequest, reply: FastifyReply, request: AuthorizeRequest, outcome: Outcome) {
    switch (outcome.kind) {
      case 'login':
        if (outcome.signup) {
          const csrfToken = await formToken(req, reply, { purpose: 'signup', request: request.raw });
          return sendPage(reply, 200, signupPage({ appName: request.app.name, request: request.raw, csrfToken, email: request.loginHint }), pagePolicy(request));
        }
        return sendLoginPage(req, reply, request, 200, { email: request.loginHint });
      case 'consent': {
        if (outcome.person.newSession) setSession(req, reply, outcome.person.newSession);
        const session = outcome.person.newSession ?? readCookie(req, SESSION_COOKIE);
        const page = consentPage({
          appName: request.app.name,
          request: request.raw,
          csrfToken: await formToken(req, reply, { purpose: 'consent', request: request.raw, session }),
          nickname: outcome.person.account.nickname,
          scopes: outcome.pending.scopes,
          terms: outcome.pending.terms,
        });
        return sendPage(reply, 200, page, pagePolicy(request));
      }
      case 'redirect':
        if (outcome.newSession) setSession(req, reply, outcome.newSession);
        return sendRedirect(reply, { redirectUri: outcome.redirectUri, resultOrigins: request.resultOrigins }, outcome.params);
    }
  }

  async function sendLoginPage(req: FastifyRequest, reply: FastifyReply, request: AuthorizeRequest, status: number, extra: { email?: string; error?: string }) {
    const accounts = await accountsForLoginPage(platform.db, LOGIN_PAGE_PEOPLE);
    const csrfToken = await formToken(req, reply, { purpose: 'login', request: request.raw });
    return sendPage(reply, status, loginPage({ appName: request.app.name, request: request.raw, accounts, csrfToken, ...extra }), pagePolicy(request));
  }
}

/** How many simulated people the login page lists (the rest sign in with email). */
const LOGIN_PAGE_PEOPLE = 50;
const SESSION_COOKIE = 'kapibara_session';

/** Every page has a strict CSP (forms may go to Kapibara and on to the app's redirect URI) and refuses framing. */
function sendPage(reply: FastifyReply, status: number, html: string, policy = loginPagePolicy([])) {
  return reply.status(status).header('cache-control', 'no-store').header('content-security-policy', policy).type('text/html; charset=utf-8').send(html);
}

function pagePolicy(request: AuthorizeRequest): string {
  const target = redirectSource(request.redirectUri);
  return loginPagePolicy(target ? [target] : []);
}

/** Back to the app; the JavaScript SDK's `JS-SDK` target gets a result page instead. */
function sendRedirect(reply: FastifyReply, target: RedirectTarget, params: Record<string, string | undefined>) {
  const { redirectUri } = target;
  if (redirectUri === 'JS-SDK') {
    const result = Object.fromEntries(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
    return sendPage(reply, 200, jsSdkResultPage(result, target.resultOrigins ?? []), loginPagePolicy([], true));
  }
  return reply.header('cache-control', 'no-store').redirect(redirectLocation(redirectUri, params), 302);
}

function setSession(req: FastifyRequest, reply: FastifyReply, value: string): void {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  reply.header('set-cookie', `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax${secure}`);
}

function readCookie(req: FastifyRequest, name: string): string | undefined {
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

/** Form fields (body, or query for POST params sent there), one value each. */
function formOf(req: FastifyRequest): Form {
  const out: Form = {};
  const sources = [(req.query ?? {}) as Query, (req.body && typeof req.body === 'object' ? req.body : {}) as Query];
  for (const source of sources) for (const key of Object.keys(source)) out[key] = one(source, key) ?? out[key];
  return out;
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
