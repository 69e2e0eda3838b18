import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PageError } from '../../core/errors.js';
import { errorPage } from '../../core/pages.js';
import { HTML_TYPE } from '../../core/http.js';
import { allowFramingBy, cspHash } from '../../core/security.js';
import { asOrigin, registeredWebOrigin } from './origins.js';
import { SDK_BUNDLE_DIR } from '../../paths.js';
import { CORS_PROXY_SCRIPT, LOGIN_WIDGET_SCRIPT } from './xdm.js';
import { LOGIN_BUTTON_LANGS, LOGIN_BUTTON_SIZES, type LoginButtonSize, loginButtonPath, loginButtonPng } from './login-button.js';

/**
 * The browser SDK's files and pages: Kapibara's own `window.Kakao` (built from src/sdk by
 * `npm run build`), the pages Kakao's SDK v1 frames (kapi /cors/, kauth's login widget) and
 * the pictures of its login button (login-button.ts).
 */

const BUNDLES = { 'kakao.js': 'kakao.js', 'kakao.min.js': 'kakao.min.js' } as const;

const bundleCache = new Map<string, { body: Buffer; etag: string }>();

async function bundle(name: keyof typeof BUNDLES): Promise<{ body: Buffer; etag: string }> {
  const cached = bundleCache.get(name);
  if (cached) return cached;
  let body: Buffer;
  try {
    body = await readFile(new URL(BUNDLES[name], SDK_BUNDLE_DIR));
  } catch {
    throw new PageError(503, errorPage('503', `The browser SDK is not built (${BUNDLES[name]} is missing): run "npm run build".`), 'sdk bundle missing');
  }
  const entry = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
  bundleCache.set(name, entry);
  return entry;
}

/** A page that only an app's page on `origin` may frame; it runs one constant script. */
function sendFramedProxy(reply: FastifyReply, origin: string, channel: string, script: string) {
  const data = JSON.stringify({ remote: origin, channel }).replace(/</g, '\\u003c');
  // Framable by that origin only (core/security.ts), with the page's full policy.
  allowFramingBy(reply, [origin]);
  const policy = [`default-src 'none'`, `script-src ${cspHash(script)}`, `connect-src 'self'`, `base-uri 'none'`, `form-action 'none'`, `frame-ancestors ${origin}`].join('; ');
  return reply
    .status(200)
    .header('cache-control', 'no-store')
    .header('content-security-policy', policy)
    .type(HTML_TYPE)
    .send(`<!doctype html><html><head><meta charset="utf-8"><title>Kakao</title></head><body>
<script type="application/json" id="xdm">${data}</script><script>${script}</script></body></html>`);
}

type Query = Record<string, string | string[] | undefined>;

function single(query: Query, name: string): string | undefined {
  const v = query[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/**
 * Who may frame a page: `any` http(s) origin (kapi /cors/), or only a `registered` web
 * domain of some app (kauth's login widget).
 */
type Framers = 'any' | 'registered';

/** xdm_e (the framing page's origin), xdm_c (the channel), xdm_p=1 (postMessage). */
async function readXdm(req: FastifyRequest, framers: Framers): Promise<{ origin: string; channel: string }> {
  const query = (req.query ?? {}) as Query;
  const fail = (cause: string) => new PageError(400, errorPage('KOE009', cause), cause);
  const remote = single(query, 'xdm_e');
  const channel = single(query, 'xdm_c');
  const transport = single(query, 'xdm_p');
  if (!remote) throw fail('xdm_e is required: the origin of the page that frames this proxy.');
  if (!channel || !/^[A-Za-z0-9_.-]{1,128}$/.test(channel)) throw fail('xdm_c is required: the easyXDM channel name (letters, digits, _ . -).');
  if (transport !== '1') throw fail(`xdm_p=${transport ?? '(missing)'}: only the postMessage transport (xdm_p=1) is served.`);
  if (framers === 'any') {
    const origin = asOrigin(remote);
    if (!origin) throw fail(`xdm_e ${remote} is not an http(s) origin: it must be the origin of the page that frames this proxy.`);
    return { origin, channel };
  }
  const origin = await registeredWebOrigin(req.server.platform, remote);
  if (!origin) throw fail(`xdm_e ${remote} is not a registered web domain of any app: add the page's origin to the app's web_domains.`);
  return { origin, channel };
}

export async function sdkPages(app: FastifyInstance): Promise<void> {
  for (const name of Object.keys(BUNDLES) as (keyof typeof BUNDLES)[]) {
    app.get(`/sdk/js/${name}`, async (req, reply) => {
      const { body, etag } = await bundle(name);
      reply.header('etag', etag).header('cache-control', 'no-cache').header('access-control-allow-origin', '*');
      if (req.headers['if-none-match'] === etag) return reply.status(304).send();
      return reply.status(200).type('text/javascript; charset=utf-8').send(body);
    });
  }

  // kapi /cors/ serves any page origin, as kapi answers any origin with CORS: it runs only
  // Kakao API paths (/v1/…, /v2/…, xdm.ts; nothing of the control plane, the console or the
  // login forms, which also refuse a request sent from this page, core/security.ts), whose
  // credentials are the tokens and keys the page itself sends, never a cookie. So the call
  // reaches kapi, which judges it as on the platform: an unregistered origin's JavaScript key
  // is -401 by the `origin/` the proxy writes into KA (the framing page's real origin), and
  // the SDK reports that error instead of waiting forever for a frame it may not load.
  app.get('/cors/', async (req, reply) => {
    const { origin, channel } = await readXdm(req, 'any');
    return sendFramedProxy(reply, origin, channel, CORS_PROXY_SCRIPT);
  });

  // The login widget relays login results (codes, tokens) to the page framing it: only a
  // registered web domain of some app may frame it.
  app.get('/public/widget/login/kakaoLoginWidget.html', async (req, reply) => {
    const { origin, channel } = await readXdm(req, 'registered');
    return sendFramedProxy(reply, origin, channel, LOGIN_WIDGET_SCRIPT);
  });

  // SDK v1's Kakao.Auth.createLoginButton: one route per picture it names; any other name
  // under the folder is the page surface's 404, as before.
  for (const lang of LOGIN_BUTTON_LANGS) {
    for (const size of Object.keys(LOGIN_BUTTON_SIZES) as LoginButtonSize[]) {
      for (const press of [false, true]) {
        app.get(loginButtonPath(lang, size, press), async (_req, reply) => {
          const png = await loginButtonPng(size, press);
          return reply.status(200).type('image/png').header('cache-control', 'public, max-age=86400').send(png);
        });
      }
    }
  }
}


