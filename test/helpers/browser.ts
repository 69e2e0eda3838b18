import { existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';

/**
 * Browsers for tests: Debian's Chromium driven by playwright-core, and a small
 * cookie-carrying HTTP client that follows Kakao Login's pages the way a person would.
 */

export const CHROMIUM_PATH = process.env.KAPIBARA_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Launches headless Chromium; fails (never skips) when it is not installed. `extraArgs`
 * adds flags, e.g. `--host-resolver-rules=MAP kauth.kakao.com 127.0.0.1:8443`.
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  assert.ok(
    existsSync(CHROMIUM_PATH),
    `Chromium is not installed at ${CHROMIUM_PATH}: install it with "apt-get install -y chromium" (scripts/test.js does this as root).`,
  );
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

export { mappedAgent } from '../../src/host-mapping.js';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function unescapeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** A person at a browser without JavaScript: fills in Kakao Login's forms and keeps its cookies. */
export class FormBrowser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly agent?: https.Agent) {}

  request(method: 'GET' | 'POST', url: string, fields?: Record<string, string | string[]>): Promise<HttpResult> {
    const target = new URL(url);
    const body = fields ? formBody(fields) : undefined;
    const lib = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        target,
        {
          method,
          agent: target.protocol === 'https:' ? this.agent : undefined,
          headers: {
            ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
            ...(body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            for (const c of res.headers['set-cookie'] ?? []) {
              const [pair] = c.split(';');
              const eq = pair.indexOf('=');
              if (eq > 0 && pair.slice(eq + 1)) this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
              else if (eq > 0) this.cookies.delete(pair.slice(0, eq));
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * From an /oauth/authorize URL to the redirect back to the app: logs in as `accountId`
   * when asked, then agrees (checking `optional` items) or cancels on the consent page.
   * Returns the URL the platform redirected to.
   */
  async authorize(url: string, accountId: number, answer: { agree?: boolean; optional?: string[] } = {}): Promise<URL> {
    const origin = new URL(url).origin;
    let res = await this.request('GET', url);
    if (res.status === 200 && res.body.includes('action="/oauth/authorize/login"')) {
      res = await this.request('POST', `${origin}/oauth/authorize/login`, { request: carried(res.body), csrf_token: carried(res.body, 'csrf_token'), account_id: String(accountId) });
      assert.equal(res.status, 303, res.body);
      res = await this.request('GET', new URL(String(res.headers.location), origin).toString());
    }
    if (res.status === 200 && res.body.includes('id="consent"')) {
      res = await this.request('POST', `${origin}/oauth/authorize/consent`, {
        request: carried(res.body),
        csrf_token: carried(res.body, 'csrf_token'),
        action: answer.agree === false ? 'cancel' : 'agree',
        scope: answer.optional ?? [],
      });
    }
    assert.equal(res.status, 302, `expected the redirect back to the app, got ${res.status}: ${res.body.slice(0, 300)}`);
    return new URL(String(res.headers.location));
  }
}

/** A hidden field of the page's form: the authorize request, or its form token. */
function carried(html: string, name = 'request'): string {
  const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  assert.ok(m, `the page carries the hidden field ${name}`);
  return unescapeHtml(m[1]);
}

function formBody(fields: Record<string, string | string[]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
  return p.toString();
}
