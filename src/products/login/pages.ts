import type { Account } from '../../core/model.js';
import { escapeHtml } from '../../core/html.js';
import { layout } from '../../core/pages.js';

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
  email?: string;
  error?: string;
}

export function loginPage(input: LoginPageInput): string {
  const people = input.accounts
    .map(
      (a) => `<form method="post" action="/oauth/authorize/login">${hidden('request', input.request)}${hidden('account_id', String(a.id))}
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
<form method="post" action="/oauth/authorize/login" id="email-login">${hidden('request', input.request)}
<label for="email">Email</label><input type="email" id="email" name="email" autocomplete="username" value="${escapeHtml(input.email ?? '')}" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions"><button class="primary" type="submit">Log In</button></div></form>
<p class="sub" style="margin-top:16px"><a href="/oauth/authorize?${escapeHtml(withPrompt(input.request, 'create'))}" id="create-account">Create a Kakao Account</a></p>`,
  );
}

export interface SignupPageInput {
  appName: string;
  request: string;
  email?: string;
  nickname?: string;
  error?: string;
}

export function signupPage(input: SignupPageInput): string {
  return layout(
    'Create a Kakao Account',
    `<h1>Create a Kakao Account</h1><p class="sub">to continue to <strong>${escapeHtml(input.appName)}</strong> (simulated by Kapibara)</p>
${errorBox(input.error)}
<form method="post" action="/oauth/authorize/signup" id="signup">${hidden('request', input.request)}
<label for="email">Email</label><input type="email" id="email" name="email" value="${escapeHtml(input.email ?? '')}" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="new-password" required>
<label for="nickname">Nickname</label><input type="text" id="nickname" name="nickname" value="${escapeHtml(input.nickname ?? '')}" required>
<div class="actions"><button class="primary" type="submit">Create account</button></div></form>
<p class="sub" style="margin-top:16px"><a href="/oauth/authorize?${escapeHtml(withPrompt(input.request, 'login'))}">I already have an account</a></p>`,
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
  nickname: string;
  scopes: ConsentItem[];
  terms: ConsentItem[];
}

function consentList(name: string, items: ConsentItem[]): string {
  return `<ul>${items
    .map(
      (item) => `<li><label><input type="checkbox" name="${name}" value="${escapeHtml(item.id)}"${item.required ? ' checked disabled' : ''} data-item="${escapeHtml(item.id)}">
<span>${escapeHtml(item.title)}</span><span class="tag">${item.required ? 'Required' : 'Optional'}</span></label></li>`,
    )
    .join('\n')}</ul>`;
}

export function consentPage(input: ConsentPageInput): string {
  return layout(
    'Kakao Login consent',
    `<h1>${escapeHtml(input.appName)}</h1><p class="sub">Signed in as <strong id="signed-in-as">${escapeHtml(input.nickname)}</strong>. This app asks for:</p>
<form method="post" action="/oauth/authorize/consent" id="consent">${hidden('request', input.request)}
${input.terms.length ? `<h2>Service terms</h2>${consentList('service_terms', input.terms)}` : ''}
${input.scopes.length ? `<h2>Information to share</h2>${consentList('scope', input.scopes)}` : ''}
<p class="sub">Required items are always shared; optional ones only when checked.</p>
<div class="actions"><button class="secondary" type="submit" name="action" value="cancel">Cancel</button>
<button class="primary" type="submit" name="action" value="agree">Agree and continue</button></div></form>`,
  );
}

/** `redirect_uri=JS-SDK`: the JavaScript SDK reads the result from this page. */
export function jsSdkResultPage(result: Record<string, string>): string {
  const rows = Object.entries(result)
    .map(([k, v]) => `<p>${escapeHtml(k)}: <code data-field="${escapeHtml(k)}">${escapeHtml(v)}</code></p>`)
    .join('');
  const json = JSON.stringify(result).replace(/</g, '\\u003c');
  return layout(
    'Kakao Login',
    `<h1>Kakao Login result</h1>${rows}
<script>try{var r=${json};if(window.opener)window.opener.postMessage(JSON.stringify(r),'*');}catch(e){}</script>`,
  );
}

/** The same authorize request with `prompt` replaced (links between login and sign-up). */
export function withPrompt(request: string, prompt: string): string {
  const params = new URLSearchParams(request);
  params.set('prompt', prompt);
  params.delete('agt');
  return params.toString();
}
