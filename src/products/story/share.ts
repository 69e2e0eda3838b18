import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KakaoApiError, PageError } from '../../core/errors.js';
import { escapeHtml } from '../../core/html.js';
import { sendPage } from '../../core/http.js';
import { PAGE_STYLE, errorPage, layout, writtenAsAfterDeletes } from '../../core/pages.js';
import { FormRefused, checkForm, formToken, strictPagePolicy } from '../../core/security.js';
import { originOf } from '../../core/platform.js';
import { findAppByKey } from '../../store/apps.js';
import { accountsForLoginPage, logIn, sessionPerson } from '../login/index.js';
import { postSharedLink, previewSharedLink, storyUrl } from './operations.js';

/**
 * story.kakao.com/s/share?url&text&app_key&kakao_agent: the page SDK v1's Kakao.Story.share
 * opens. The person signs in to Kakao here if needed (story.kakao.com shares no cookie with
 * kauth), sees the link's preview, and posts it as a link story of theirs after confirming.
 */

const SESSION_COOKIE = 'kapibara_session';
const PEOPLE = 50;
const SESSION_ENDED = 'Your Kakao session ended. Log in again.';

type Fields = Record<string, string | string[] | undefined>;

function field(source: Fields, name: string): string | undefined {
  const v = source[name];
  const value = Array.isArray(v) ? v[v.length - 1] : v;
  return value === undefined || value === '' ? undefined : value;
}

function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

function hidden(name: string, value: string | undefined): string {
  return value === undefined ? '' : `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

function fail(cause: string): PageError {
  return new PageError(400, errorPage('KOE101', cause), cause);
}

interface ShareRequest {
  url: string;
  text?: string;
  appKey: string;
}

async function readShare(req: FastifyRequest, source: Fields) {
  const url = field(source, 'url');
  const appKey = field(source, 'app_key');
  if (!appKey) throw fail('app_key is required: call Kakao.init(<JavaScript key>) before Kakao.Story.share.');
  const found = await findAppByKey(req.server.platform.db, appKey);
  if (!found || found.keyType !== 'javascript') throw fail(`invalid app_key: ${appKey} is not the JavaScript key of an app.`);
  if (!url || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw fail(`url must be an http or https URL to share (got ${url ?? 'nothing'}).`);
  return { app: found.app, share: { url, text: field(source, 'text'), appKey } satisfies ShareRequest };
}

/** The pages' CSP: their style, forms to this page only, no framing (core/security.ts). */
const POLICY = strictPagePolicy({ styles: [PAGE_STYLE], formAction: ["'self'"] });

function send(reply: FastifyReply, status: number, html: string) {
  return sendPage(reply.header('content-security-policy', POLICY), status, html);
}

/**
 * A form of these pages must come from them, in this browser: Origin and Fetch Metadata,
 * and the form token bound to the share (and, for posting, the login session).
 */
async function checkShareForm(req: FastifyRequest, purpose: string, share: ShareRequest, session: string | undefined, token: string | undefined): Promise<void> {
  try {
    await checkForm(req, { purpose, request: shareQuery(share), session }, token);
  } catch (err) {
    if (err instanceof FormRefused) throw new PageError(403, errorPage('403', err.message), err.message, { 'content-security-policy': POLICY });
    throw err;
  }
}

function shareQuery(s: ShareRequest): string {
  const q = new URLSearchParams({ url: s.url, app_key: s.appKey });
  if (s.text) q.set('text', s.text);
  return q.toString();
}

export async function storySharePages(app: FastifyInstance): Promise<void> {
  const platform = app.platform;

  app.get('/s/share', async (req, reply) => {
    const { app: target, share } = await readShare(req, (req.query ?? {}) as Fields);
    const session = readCookie(req, SESSION_COOKIE);
    const person = await sessionPerson(platform, session);
    if (!person) return send(reply, 200, await signInPage(share, await formToken(req, reply, { purpose: 'story-share-login', request: shareQuery(share) })));
    try {
      let info: Awaited<ReturnType<typeof previewSharedLink>> | undefined;
      const previewed = await writtenAsAfterDeletes(
        async () => (info = await previewSharedLink(platform, target, person.account, share.url)),
        () => stillThere(req, reply, (req.query ?? {}) as Fields, session),
      );
      if (!previewed || !info) return reply;
      const token = await formToken(req, reply, { purpose: 'story-share', request: shareQuery(share), session });
      return send(reply, 200, confirmPage(share, person.account.nickname, target.name, info, token));
    } catch (err) {
      if (err instanceof KakaoApiError) throw fail(`This link cannot be shared: ${err.msg}`);
      throw err;
    }
  });

  app.post('/s/share/login', async (req, reply) => {
    const body = (req.body ?? {}) as Fields;
    const { share } = await readShare(req, body);
    await checkShareForm(req, 'story-share-login', share, undefined, field(body, 'csrf_token'));
    const person = await logIn(platform, { accountId: field(body, 'account_id'), email: field(body, 'email'), password: field(body, 'password') });
    if ('refused' in person) {
      return send(reply, 401, await signInPage(share, await formToken(req, reply, { purpose: 'story-share-login', request: shareQuery(share) }), person.refused));
    }
    const secure = req.protocol === 'https' ? '; Secure' : '';
    reply.header('set-cookie', `${SESSION_COOKIE}=${person.newSession}; Path=/; HttpOnly; SameSite=Lax${secure}`);
    return reply.redirect(`/s/share?${shareQuery(share)}`, 303);
  });

  app.post('/s/share', async (req, reply) => {
    const body = (req.body ?? {}) as Fields;
    const { app: target, share } = await readShare(req, body);
    const session = readCookie(req, SESSION_COOKIE);
    // The form token covers the share as shown; the text is the person's to edit.
    await checkShareForm(req, 'story-share', { ...share, text: field(body, 'shown_text') }, session, field(body, 'csrf_token'));
    const person = await sessionPerson(platform, session);
    if (!person) {
      return send(reply, 200, await signInPage(share, await formToken(req, reply, { purpose: 'story-share-login', request: shareQuery(share) }), SESSION_ENDED));
    }
    try {
      let id: string | undefined;
      const posted = await writtenAsAfterDeletes(
        async () => ({ id } = await postSharedLink(platform, target, person.account, { url: share.url, text: share.text ?? '', permission: field(body, 'permission') })),
        () => stillThere(req, reply, body, session, SESSION_ENDED),
      );
      if (!posted || id === undefined) return reply;
      const link = storyUrl(originOf(req), id);
      return send(reply, 200, layout('Kakao Story', `<h1>Shared on Kakao Story</h1><p class="sub" id="posted" data-story-id="${escapeHtml(id)}">Posted as ${escapeHtml(person.account.nickname)}.</p><p><a href="${escapeHtml(link)}">See the story</a></p>`));
    } catch (err) {
      if (err instanceof KakaoApiError) throw fail(`This link cannot be shared: ${err.msg}`);
      throw err;
    }
  });

  /**
   * The page's checks again, after its write (the scrap, the Story profile, the story) met a
   * delete: the app gone throws its KOE101 page; the person gone (their session with them) is
   * sent the sign-in page, as a call after the delete would be. True when both are still there.
   */
  async function stillThere(req: FastifyRequest, reply: FastifyReply, source: Fields, session: string | undefined, error?: string): Promise<boolean> {
    const { share } = await readShare(req, source);
    if (await sessionPerson(platform, session)) return true;
    await send(reply, 200, await signInPage(share, await formToken(req, reply, { purpose: 'story-share-login', request: shareQuery(share) }), error));
    return false;
  }

  async function signInPage(share: ShareRequest, csrfToken: string, error?: string): Promise<string> {
    const people = await accountsForLoginPage(platform.db, PEOPLE);
    const carried = hidden('url', share.url) + hidden('text', share.text) + hidden('app_key', share.appKey) + hidden('csrf_token', csrfToken);
    const buttons = people
      .map(
        (a) => `<form method="post" action="/s/share/login">${carried}${hidden('account_id', String(a.id))}
<button class="person" type="submit" data-account-id="${a.id}"><span>${escapeHtml(a.nickname)}</span><small>${escapeHtml(a.email)}</small></button></form>`,
      )
      .join('\n');
    return layout(
      'Kakao Story',
      `<h1>Log in to share on Kakao Story</h1>${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<h2>Pick a person</h2>${buttons || '<p class="sub">No simulated people yet: create one through the control plane.</p>'}
<h2>Or sign in with email</h2>
<form method="post" action="/s/share/login" id="email-login">${carried}
<label for="email">Email</label><input type="email" id="email" name="email" required>
<label for="password">Password</label><input type="password" id="password" name="password" required>
<div class="actions"><button class="primary" type="submit">Log In</button></div></form>`,
    );
  }
}

function confirmPage(share: ShareRequest, nickname: string, appName: string, info: { url: string; title: string; description: string; host: string; image: string[] }, csrfToken: string): string {
  return layout(
    'Share on Kakao Story',
    `<h1>Share on Kakao Story</h1><p class="sub">as <strong id="signed-in-as">${escapeHtml(nickname)}</strong>, from ${escapeHtml(appName)}</p>
<div class="person" id="preview"><span><strong id="preview-title">${escapeHtml(info.title || info.url)}</strong><br><small>${escapeHtml(info.description)}</small></span><small>${escapeHtml(info.host)}</small></div>
<form method="post" action="/s/share" id="share">${hidden('url', share.url)}${hidden('app_key', share.appKey)}${hidden('shown_text', share.text)}${hidden('csrf_token', csrfToken)}
<label for="text">Write something</label><input type="text" id="text" name="text" value="${escapeHtml(share.text ?? '')}">
<label for="permission">Who can see it</label><select id="permission" name="permission"><option value="A">Everyone</option><option value="F">Friends</option><option value="M">Only me</option></select>
<div class="actions"><button class="primary" type="submit">Post</button></div></form>`,
  );
}

