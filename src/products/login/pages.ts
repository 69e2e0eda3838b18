import type { Account } from '../../core/model.js';
import { escapeHtml } from '../../core/html.js';
import { strictPagePolicy } from '../../core/security.js';
import { PAGE_STYLE, layout } from '../../core/pages.js';

/**
 * The browser pages of Kakao Login, server-rendered: plain forms that work without
 * JavaScript, a little inline CSS (the shell in core/pages.ts), every value escaped.
 */


function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

function errorBox(error: string | undefined): string {
  return error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
}

/** Errors that cannot be sent back to the app (unknown client, unregistered redirect URI…). */
export function errorPage(errorCode: string, description: string): string {
  return layout(
    `Error ${errorCode}`,
    `<h1>Kakao Login error</h1><p class="sub">Error code <strong id="error-code">${escapeHtml(errorCode)}</strong></p>
<p class="error" role="alert">${escapeHtml(description)}</p>
<p class="sub">The app sent a request that Kapibara cannot send back to it. Check the app's keys, redirect URIs and Kakao Login settings in the control plane.</p>`,
  );
}

export interface LoginPageInput {
  appName: string;
  /** The original /oauth/authorize query string, carried through the forms. */
  request: string;
  accounts: Account[];
  /** The form token (core/security.ts) every form of the page carries. */
  csrfToken: string;
  email?: string;
  error?: string;
}

export function loginPage(input: LoginPageInput): string {
  const people = input.accounts
    .map(
      (a) => `<form method="post" action="/oauth/authorize/login">${hidden('request', input.request)}${hidden('csrf_token', input.csrfToken)}${hidden('account_id', String(a.id))}
<button class="person" type="submit" name="pick" value="${a.id}" data-account-id="${a.id}"><span>${escapeHtml(a.nickname)}</span><small>${escapeHtml(a.email)}</small></button></form>`,
    )
    .join('\n');
  return layout(
    'Kakao Login',
    `<h1>Log in with Kakao</h1><p class="sub">to continue to <strong>${escapeHtml(input.appName)}</strong> (simulated by Kapibara)</p>
${errorBox(input.error)}
<h2>Pick a person</h2>
${people || '<p class="sub">No simulated people yet: create one below or through the control plane.</p>'}
<h2>Or sign in with email</h2>
<form method="post" action="/oauth/authorize/login" id="email-login">${hidden('request', input.request)}${hidden('csrf_token', input.csrfToken)}
<label for="email">Email</label><input type="email" id="email" name="email" autocomplete="username" value="${escapeHtml(input.email ?? '')}" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions"><button class="primary" type="submit">Log In</button></div></form>
<p class="sub more"><a href="/oauth/authorize?${escapeHtml(withPrompt(input.request, 'create'))}" id="create-account">Create a Kakao Account</a></p>`,
  );
}

export interface SignupPageInput {
  appName: string;
  request: string;
  csrfToken: string;
  email?: string;
  nickname?: string;
  error?: string;
}

export function signupPage(input: SignupPageInput): string {
  return layout(
    'Create a Kakao Account',
    `<h1>Create a Kakao Account</h1><p class="sub">to continue to <strong>${escapeHtml(input.appName)}</strong> (simulated by Kapibara)</p>
${errorBox(input.error)}
<form method="post" action="/oauth/authorize/signup" id="signup">${hidden('request', input.request)}${hidden('csrf_token', input.csrfToken)}
<label for="email">Email</label><input type="email" id="email" name="email" value="${escapeHtml(input.email ?? '')}" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="new-password" required>
<label for="nickname">Nickname</label><input type="text" id="nickname" name="nickname" value="${escapeHtml(input.nickname ?? '')}" required>
<div class="actions"><button class="primary" type="submit">Create account</button></div></form>
<p class="sub more"><a href="/oauth/authorize?${escapeHtml(withPrompt(input.request, 'login'))}">I already have an account</a></p>`,
  );
}

export interface ConsentItem {
  id: string;
  title: string;
  required: boolean;
}

export interface ConsentPageInput {
  appName: string;
  request: string;
  csrfToken: string;
  nickname: string;
  scopes: ConsentItem[];
  terms: ConsentItem[];
  /** Kakao Talk Channels to add (`channel_public_id`): optional, checked at first, as on Kakao's page. */
  channels: ConsentItem[];
}

function consentList(name: string, items: ConsentItem[], checked = false): string {
  return `<ul>${items
    .map(
      (item) => `<li><label><input type="checkbox" name="${name}" value="${escapeHtml(item.id)}"${item.required ? ' checked disabled' : checked ? ' checked' : ''} data-item="${escapeHtml(item.id)}">
<span>${escapeHtml(item.title)}</span><span class="tag">${item.required ? 'Required' : 'Optional'}</span></label></li>`,
    )
    .join('\n')}</ul>`;
}

export function consentPage(input: ConsentPageInput): string {
  return layout(
    'Kakao Login consent',
    `<h1>${escapeHtml(input.appName)}</h1><p class="sub">Signed in as <strong id="signed-in-as">${escapeHtml(input.nickname)}</strong>. This app asks for:</p>
<form method="post" action="/oauth/authorize/consent" id="consent">${hidden('request', input.request)}${hidden('csrf_token', input.csrfToken)}
${input.terms.length ? `<h2>Service terms</h2>${consentList('service_terms', input.terms)}` : ''}
${input.scopes.length ? `<h2>Information to share</h2>${consentList('scope', input.scopes)}` : ''}
${input.channels.length ? `<h2>Kakao Talk Channel</h2>${consentList('channel_public_id', input.channels, true)}` : ''}
<p class="sub">Required items are always shared; optional ones only when checked.</p>
<div class="actions"><button class="secondary" type="submit" name="action" value="cancel">Cancel</button>
<button class="primary" type="submit" name="action" value="agree">Agree and continue</button></div></form>`,
  );
}

/**
 * Posts the result to the window that opened this page, once per allowed origin: the
 * browser delivers it only when the opener is on that origin. Constant, so the page's CSP
 * allows it by hash; the data sits in a JSON block that is never executed.
 */
const JS_RESULT_SCRIPT =
  "(function(){var d=document.getElementById('kakao-result');if(!d||!window.opener)return;var m=JSON.parse(d.textContent);" +
  "var r=JSON.stringify(m.result);m.origins.forEach(function(o){try{window.opener.postMessage(r,o);}catch(e){}});})();";

/**
 * `redirect_uri=JS-SDK`: the JavaScript SDK reads the result from this page, posted only
 * to `origins` (the app's registered web domains, core/security.ts jsResultOrigins).
 */
export function jsSdkResultPage(result: Record<string, string>, origins: readonly string[]): string {
  const rows = Object.entries(result)
    .map(([k, v]) => `<p>${escapeHtml(k)}: <code data-field="${escapeHtml(k)}">${escapeHtml(v)}</code></p>`)
    .join('');
  const json = JSON.stringify({ result, origins }).replace(/</g, '\\u003c');
  const note = origins.length
    ? ''
    : '<p class="error" role="alert">The app has no registered web domain, so the result was not sent to the page that opened this window. Add the page\'s origin to the app\'s web_domains.</p>';
  return layout(
    'Kakao Login',
    `<h1>Kakao Login result</h1>${rows}${note}
<script type="application/json" id="kakao-result">${json}</script><script>${JS_RESULT_SCRIPT}</script>`,
  );
}

/** A form Kapibara refused (another site's page sent it, or its token does not match). */
export function formRefusedPage(reason: string, restart: string | undefined): string {
  return layout(
    'Form refused',
    `<h1>Kakao Login</h1><p class="error" role="alert" id="form-refused">${escapeHtml(reason)}</p>
${restart ? `<p class="sub"><a href="/oauth/authorize?${escapeHtml(restart)}">Start again</a></p>` : ''}`,
  );
}

/**
 * The CSP of every Kakao Login page: its inline style (and the result script) by hash,
 * forms to Kapibara and to where the answer is redirected (`formTargets`), no framing.
 */
export function loginPagePolicy(formTargets: readonly string[], script = false): string {
  return strictPagePolicy({ styles: [PAGE_STYLE], scripts: script ? [JS_RESULT_SCRIPT] : [], formAction: ["'self'", ...formTargets] });
}

/** The same authorize request with `prompt` replaced (links between login and sign-up). */
export function withPrompt(request: string, prompt: string): string {
  const params = new URLSearchParams(request);
  params.set('prompt', prompt);
  params.delete('agt');
  return params.toString();
}
