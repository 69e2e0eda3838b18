import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createHash, X509Certificate } from 'node:crypto';
import { after, before } from '../helpers/node-test.js';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import type { TlsListener } from '../../src/core/tls.js';
import type { Harness } from '../helpers/harness.js';

/**
 * An app's web site for the browser SDK tests: an empty page that loads one SDK with a
 * `<script src>` (Kapibara's /sdk/js/kakao.js, or Kakao's official SDK v1.39.14 served here
 * unmodified), a button for the share-button tests, a file input for uploads, an article
 * page with Open Graph tags and pictures for the scrap tests.
 */

/** Kakao's SDK, kept next to the checkout (../shared/sdk, see its README); KAPIBARA_OFFICIAL_SDK_V1 overrides. */
export const OFFICIAL_SDK_V1 = process.env.KAPIBARA_OFFICIAL_SDK_V1 ?? resolve(process.cwd(), '../shared/sdk/kakao-1.39.14.js');

/** The Kakao hosts the official SDK calls, all mapped to Kapibara's TLS listener. */
export const MAPPED_HOSTS = ['kauth.kakao.com', 'kapi.kakao.com', 'sharer.kakao.com', 'story.kakao.com'];

/** Chromium resolving the Kakao hosts to `tls` and trusting its certificate (by its public key only). */
export async function mappedChromium(tls: TlsListener): Promise<Browser> {
  const spki = createHash('sha256').update(new X509Certificate(tls.cert).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  const rules = MAPPED_HOSTS.map((host) => `MAP ${host} 127.0.0.1:${tls.port}`).join(',');
  return launchChromium([`--host-resolver-rules=${rules}`, `--ignore-certificate-errors-spki-list=${spki}`]);
}

/** For the official-SDK tests' `before`: fails naming the file when Kakao's SDK is not beside the checkout. */
export function assertOfficialSdk(): void {
  if (!existsSync(OFFICIAL_SDK_V1)) {
    throw new Error(`Kakao's SDK v1.39.14 is expected at ${OFFICIAL_SDK_V1} (../shared/sdk beside the checkout); KAPIBARA_OFFICIAL_SDK_V1 names another path`);
  }
}

export class AppSite {
  server!: http.Server;
  origin = '';
  /** The `<script src>` of the page. */
  sdkSrc = '';
  /** A whole page to serve at /page instead (the documented examples). */
  html?: string;
  /** Pictures of the site, served at /img/<name> (for scrapImage). */
  readonly images = new Map<string, { type: string; body: Buffer }>();
  private officialSdk?: Buffer;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.origin);
    if (url.pathname === '/kakao-1.39.14.js') {
      // Read when a page asks for it: only the official-SDK tests need the file, and they fail naming it when it is missing.
      try {
        this.officialSdk ??= readFileSync(OFFICIAL_SDK_V1);
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`Kakao's SDK v1.39.14 is not at ${OFFICIAL_SDK_V1}: ${(err as Error).message}`);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(this.officialSdk);
      return;
    }
    const image = url.pathname.startsWith('/img/') ? this.images.get(url.pathname.slice('/img/'.length)) : undefined;
    if (image) {
      res.writeHead(200, { 'content-type': image.type, 'content-length': image.body.length }).end(image.body);
      return;
    }
    if (url.pathname === '/article') {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(`<!doctype html><html><head><meta property="og:title" content="Capybaras at the hot spring"><meta property="og:description" content="A long soak"><meta property="og:type" content="article"><title>Article</title></head><body>Article</body></html>`);
      return;
    }
    if ((url.pathname === '/' || url.pathname === '/page') && this.html !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(this.html);
      return;
    }
    if (url.pathname === '/' || url.pathname === '/page') {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(`<!doctype html><html><head><meta charset="utf-8"><title>App</title><script src="${this.sdkSrc}"></script></head>
<body><h1>App</h1><a id="kakao-link-btn" href="#">Share</a><input type="file" id="file" multiple></body></html>`);
      return;
    }
    res.writeHead(404).end();
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

declare global {
  interface Window {
    /** The SDK under test (Kapibara's or Kakao's): typed loosely, the tests pin what it does. */
    Kakao: any;
  }
}

/**
 * For one suite: Chromium, Kapibara listening on 127.0.0.1 (no host mapping) and an app's
 * site on another origin, started before its tests and stopped after them.
 */
export function browserAndSite(h: Harness): { browser: Browser; kapibara: string; site: AppSite } {
  const world = { browser: undefined as unknown as Browser, kapibara: '', site: new AppSite() };
  before(async () => {
    world.browser = await launchChromium();
    world.kapibara = await h.listen();
    await world.site.start();
  });
  after(async () => {
    await world.browser?.close();
    await world.site.stop();
  });
  return world;
}
