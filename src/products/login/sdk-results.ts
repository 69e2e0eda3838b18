import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Platform } from '../../core/platform.js';
import { OAuthError } from '../../core/errors.js';
import { escapeHtml } from '../../core/html.js';
import { PAGE_STYLE, layout } from '../../core/pages.js';
import { strictPagePolicy } from '../../core/security.js';
import { checkTokenClient } from './token.js';
import { type AuthorizeRequest, one } from './authorize.js';
import { type WebCaller, checkWebOrigin } from './client.js';
import { route } from '../../core/route.js';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';

/**
 * What the JavaScript SDKs read back from a login besides the redirect: SDK v2's popup login
 * polls GET /apiweb/code.json with the `auth_tran_id` it sent to /oauth/authorize (wire facts
 * §10), and SDK v1's popup login (`redirect_uri=kakaojs`) hands its result to the login
 * widget framed in the app's page (src/products/sdk), which exchanges the code.
 */

/** How long a result waits to be polled: as long as the code it carries lives. */
const RESULT_TTL_MS = 10 * 60 * 1000;

export type LoginResult = Record<string, string>;

function tranHash(tranId: string): string {
  return createHash('sha256').update(`tran:${tranId}`).digest('base64url');
}

function tranKey(tranId: string): Buffer {
  return createHash('sha256').update(`key:${tranId}`).digest();
}

function seal(tranId: string, result: LoginResult): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', tranKey(tranId), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(result), 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

function open(tranId: string, sealed: string): LoginResult | undefined {
  const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  try {
    const decipher = createDecipheriv('aes-256-gcm', tranKey(tranId), iv);
    decipher.setAuthTag(tag);
    return JSON.parse(Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')) as LoginResult;
  } catch {
    return undefined;
  }
}

/**
 * Keeps a login's result (code and state, or error) for the SDK that polls `auth_tran_id`;
 * `db`: the caller's transaction when the result is part of a larger write (a consent).
 */
export async function rememberForPolling(platform: Platform, req: AuthorizeRequest, result: Record<string, string | undefined>, db: Kysely<DB> = platform.db): Promise<void> {
  if (!req.authTranId) return;
  const clean = Object.fromEntries(Object.entries(result).filter((e): e is [string, string] => e[1] !== undefined));
  const row = { app_id: req.app.id, tran_hash: tranHash(req.authTranId), result: seal(req.authTranId, clean), expires_at: platform.clock.now() + RESULT_TTL_MS };
  await db
    .insertInto('login_auth_transactions')
    .values(row)
    .onConflict((oc) => oc.columns(['app_id', 'tran_hash']).doUpdateSet({ result: row.result, expires_at: row.expires_at }))
    .execute();
}

export type CodePollAnswer =
  | { status: 'ok'; code: string; state?: string }
  | { status: 'error'; error_code: string; error: string; error_description: string; state?: string };

/** Not answered yet (the SDK keeps polling on error_code 300). */
const PENDING: CodePollAnswer = { status: 'error', error_code: '300', error: 'authorization_pending', error_description: 'The person has not finished logging in yet.' };

/**
 * GET /apiweb/code.json: the result once the person answered (handed out once), pending
 * before. A browser caller must be on one of the app's web domains: the `auth_tran_id` is
 * whatever the page that opened the login chose, so a page elsewhere that started a login
 * (a session makes `prompt=none` answer at once) must not read its code. The `Origin` a
 * browser sets wins over the KA a page writes.
 */
export async function pollCode(platform: Platform, query: { client_id?: string; auth_tran_id?: string }, caller: WebCaller): Promise<CodePollAnswer> {
  const { app } = await checkTokenClient(platform, query.client_id);
  if (!query.auth_tran_id) throw new OAuthError('invalid_request', 'auth_tran_id is required.', 'KOE001');
  checkWebOrigin(app, caller);
  const { db, clock } = platform;
  const hash = tranHash(query.auth_tran_id);
  const row = await db
    .deleteFrom('login_auth_transactions')
    .where('app_id', '=', app.id)
    .where('tran_hash', '=', hash)
    .returning(['result', 'expires_at'])
    .executeTakeFirst();
  if (!row || row.expires_at <= clock.now()) return PENDING;
  const result = open(query.auth_tran_id, row.result);
  if (!result) return PENDING;
  if (result.code) return { status: 'ok', code: result.code, ...(result.state ? { state: result.state } : {}) };
  return {
    status: 'error',
    error_code: '500',
    error: result.error ?? 'server_error',
    error_description: result.error_description ?? 'login failed',
    ...(result.state ? { state: result.state } : {}),
  };
}

/**
 * The page `redirect_uri=kakaojs` ends on (SDK v1's popup login): it hands `{code, state}`
 * (or the error) to SDK v1's login widget in the window that opened it, found by the
 * `proxy` frame name the SDK sent, and only when that widget was loaded for one of the
 * app's web domains (`origins`). The widget exchanges the code and tells the SDK.
 *
 * The SDK creates the widget's frame as it opens this popup, so on a busy machine the frame
 * may still be loading (another origin's blank page, no `postResponse` yet) when a quick
 * person has already consented: the page then looks again every 50 ms, for up to 10 s,
 * before it gives up. A widget loaded for a page that is not on a web domain is refused at once.
 */
export const KAKAOJS_WIDGET_WAIT = { intervalMs: 50, attempts: 200 } as const;

export const KAKAOJS_RESULT_SCRIPT =
  "(function(){var d=JSON.parse(document.getElementById('kakao-result').textContent);var s=document.getElementById('status');" +
  "function done(t){s.textContent=t;}" +
  "function widget(){var w;try{w=window.opener&&d.proxy?window.opener.frames[d.proxy]:null;}catch(x){w=null;}" +
  "if(!w)return {gone:true};var e;try{e=new URLSearchParams(w.location.search).get('xdm_e');}catch(x){return {loading:true};}" +
  "if(typeof w.postResponse!=='function')return {loading:true};" +
  "return e&&d.origins.indexOf(e)>=0?{ready:w}:{refused:true};}" +
  "var r=d.result,left=" + KAKAOJS_WIDGET_WAIT.attempts + ";" +
  "function give(m){m.stateToken=r.state;delete m.state;" +
  "(function attempt(){var f=widget();" +
  "if(f.gone){done('The page that started this login is gone; close this window and try again.');return;}" +
  "if(f.refused){done('The page that started this login is not on a registered web domain of the app.');return;}" +
  "if(f.loading&&--left<=0){done('The login widget of the page that started this login did not load; close this window and try again.');return;}" +
  "if(f.loading){setTimeout(attempt," + KAKAOJS_WIDGET_WAIT.intervalMs + ");return;}" +
  "try{f.ready.postResponse(m);}catch(x){}done('Done. You can close this window.');window.close();})();}" +
  // Refused before the code is spent: no opener, or a widget loaded for another page.
  "var first=widget();if(first.gone||first.refused){give({});return;}" +
  "if(!r.code){give({error:r.error,error_description:r.error_description,state:r.state});return;}" +
  "var x=new XMLHttpRequest();x.open('POST','/oauth/token');x.setRequestHeader('Content-Type','application/x-www-form-urlencoded;charset=utf-8');" +
  "x.onload=function(){var m;try{m=JSON.parse(x.responseText);}catch(y){m={error:'server_error',error_description:'unexpected token answer'};}give(m);};" +
  "x.onerror=function(){give({error:'server_error',error_description:'the token request failed'});};" +
  "x.send('grant_type=authorization_code&client_id='+encodeURIComponent(d.client_id)+'&redirect_uri=kakaojs&code='+encodeURIComponent(r.code));})();";

export function kakaojsResultPage(input: { result: Record<string, string>; proxy?: string; clientId: string; origins: readonly string[] }): string {
  const json = JSON.stringify({ result: input.result, proxy: input.proxy, client_id: input.clientId, origins: input.origins }).replace(/</g, '\\u003c');
  const summary = input.result.code ? 'Logged in.' : `Login ended: ${input.result.error ?? 'error'}.`;
  return layout(
    'Kakao Login',
    `<h1>Kakao Login</h1><p class="sub" id="status">${escapeHtml(summary)} Returning to the app…</p>
<script type="application/json" id="kakao-result">${json}</script><script>${KAKAOJS_RESULT_SCRIPT}</script>`,
  );
}

/** The kakaojs page's CSP: its style and script by hash, XHR to this origin only (the token exchange), no forms, no framing. */
export function kakaojsPagePolicy(): string {
  return `${strictPagePolicy({ styles: [PAGE_STYLE], scripts: [KAKAOJS_RESULT_SCRIPT] })}; connect-src 'self'`;
}

/** kauth routes the JavaScript SDK polls. */
export const sdkLoginRoutes = [
  route({
    method: 'GET',
    url: '/apiweb/code.json',
    surface: 'kauth',
    auth: 'none',
    headers: { 'cache-control': 'no-store' },
    handler: (call, raw) => pollCode(call.platform, { client_id: one(raw, 'client_id'), auth_tran_id: one(raw, 'auth_tran_id') }, { pageOrigin: call.pageOrigin, ownOrigin: call.origin, ka: one(raw, 'ka') ?? call.ka }),
  }),
];
