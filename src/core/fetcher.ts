import { KakaoApiError, invalidParam } from './errors.js';

/**
 * The only way Kapibara fetches outside URLs (message scrap, story linkinfo, image scrap). A URL is
 * fetched only when its origin is one of the app's registered web domains, and every
 * redirect hop is checked again before it is followed, so an unregistered host — public or
 * private — is never contacted. Redirects, response size and total time are bounded.
 */

export type RefusalReason = 'not_allowed' | 'timeout' | 'too_large' | 'failed' | 'bad_url';

export class FetchRefused extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

export interface FetchedPage {
  requestedUrl: string;
  /** The final URL, after redirects. */
  url: string;
  status: number;
  contentType: string;
  html: string;
}

export interface FetchOptions {
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
}

export const FETCH_DEFAULTS: Required<FetchOptions> = { timeoutMs: 5000, maxBytes: 2 * 1024 * 1024, maxRedirects: 5 };

const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443' };

function parseTarget(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FetchRefused('bad_url', `invalid url: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FetchRefused('bad_url', `unsupported scheme: ${url.protocol}`);
  return url;
}

/** isAllowedUrl of a URL written as text (a link, an `Origin`): false when it is no URL. */
export function isAllowedUrlText(url: string, allowedDomains: readonly string[]): boolean {
  return URL.canParse(url) && isAllowedUrl(new URL(url), allowedDomains);
}

/**
 * A registered web domain is an origin (`https://example.com`, `http://127.0.0.1:8080`) or a
 * bare host name (`example.com`, any scheme and port). Matching is exact on the host: a
 * subdomain is a different site.
 */
export function isAllowedUrl(url: URL, allowedDomains: readonly string[]): boolean {
  return matches(domainMatcher(allowedDomains), url);
}

/**
 * isAllowedUrl over a list read once: for a list kept and asked many times (every app's web
 * domains, by the SDK v1 login widget), each check costs a lookup, not a pass over the list.
 */
export function webDomainMatcher(domains: readonly string[]): (url: URL) => boolean {
  const matcher = buildMatcher(domains);
  return (url) => matches(matcher, url);
}

function matches({ origins, hosts }: DomainMatcher, url: URL): boolean {
  const host = url.hostname.toLowerCase();
  if (hosts.has(host)) return true;
  return origins.get(host)?.has(`${url.protocol}${url.port || DEFAULT_PORT[url.protocol]}`) === true;
}

const WEB_DOMAIN_FORM = 'write an origin such as http://localhost:3000 (scheme, host and optional port) or a host name such as shop.example';
/** A host as a parsed URL writes it: DNS labels (ASCII, IDNs in punycode), an IPv4 address, or [IPv6]. */
const URL_HOST = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])$/;

/**
 * Why a web-domain entry could never match a page under isAllowedUrl (undefined when it can):
 * an origin must be an http(s) URL with a real host; a host name must be written as a URL
 * writes hosts (no port, no wildcard, punycode). The control plane refuses such entries
 * (control/bodies.ts) rather than store a domain every later check would miss.
 */
export function webDomainProblem(domain: string): string | undefined {
  const d = domain.trim().toLowerCase();
  if (d.includes('*')) {
    return 'wildcards are not supported: register each host (a host name such as daum.net covers that host only, not its subdomains) or each origin (https://m.daum.net)';
  }
  if (d.includes('://')) {
    if (!URL.canParse(d)) return WEB_DOMAIN_FORM;
    const origin = new URL(d);
    if (!URL_HOST.test(origin.hostname)) return WEB_DOMAIN_FORM;
    if (origin.protocol !== 'http:' && origin.protocol !== 'https:') {
      return `only http and https pages are matched: write http://${origin.host} or https://${origin.host}`;
    }
    return undefined;
  }
  const host = d.replace(/\/.*$/, '');
  if (/^[^:@]+:\d*$/.test(host)) return `a host with a port needs its scheme: write http://${host} or https://${host}`;
  if (!URL.canParse(`http://${host}`)) return WEB_DOMAIN_FORM;
  const written = new URL(`http://${host}`).hostname;
  if (!URL_HOST.test(written)) return WEB_DOMAIN_FORM;
  if (written !== host) return `a page's host is written ${written}: write that, or an origin such as https://${written}`;
  return undefined;
}

interface DomainMatcher {
  /** The list as it was read (a list changed in place is read again). */
  source: string[];
  /** Registered origins by host name, as scheme and port (`https:443`; the port always written). */
  origins: Map<string, Set<string>>;
  hosts: Set<string>;
}

/** An app's domain list is read once per list (a message template checks several links). */
const matchers = new WeakMap<readonly string[], DomainMatcher>();

function domainMatcher(domains: readonly string[]): DomainMatcher {
  let matcher = matchers.get(domains);
  if (matcher && matcher.source.length === domains.length && matcher.source.every((d, i) => d === domains[i])) return matcher;
  matcher = buildMatcher(domains);
  matchers.set(domains, matcher);
  return matcher;
}

function buildMatcher(domains: readonly string[]): DomainMatcher {
  const matcher: DomainMatcher = { source: [...domains], origins: new Map(), hosts: new Set() };
  for (const domain of domains) {
    const d = domain.trim().toLowerCase();
    if (!d) continue;
    if (d.includes('://')) {
      let origin: URL;
      try {
        origin = new URL(d);
      } catch {
        continue;
      }
      const registered = matcher.origins.get(origin.hostname) ?? new Set();
      registered.add(`${origin.protocol}${origin.port || DEFAULT_PORT[origin.protocol]}`);
      matcher.origins.set(origin.hostname, registered);
    } else {
      matcher.hosts.add(d.replace(/\/.*$/, ''));
    }
  }
  return matcher;
}

export async function fetchPage(rawUrl: string, allowedDomains: readonly string[], opts: FetchOptions = {}): Promise<FetchedPage> {
  const { bytes, ...rest } = await fetchBytes(rawUrl, allowedDomains, opts, 'text/html,application/xhtml+xml,*/*;q=0.8');
  return { ...rest, html: decode(bytes, rest.contentType) };
}

export interface FetchedBytes {
  requestedUrl: string;
  /** The final URL, after redirects. */
  url: string;
  status: number;
  contentType: string;
  bytes: Uint8Array;
}

/** Fetches a resource's bytes (image scrap) under the same policy as pages. */
export async function fetchBytes(rawUrl: string, allowedDomains: readonly string[], opts: FetchOptions = {}, accept = '*/*'): Promise<FetchedBytes> {
  const { timeoutMs, maxBytes, maxRedirects } = { ...FETCH_DEFAULTS, ...opts };
  const signal = AbortSignal.timeout(timeoutMs);
  let url = parseTarget(rawUrl);
  try {
    for (let hop = 0; ; hop++) {
      if (!isAllowedUrl(url, allowedDomains)) {
        throw new FetchRefused('not_allowed', `${url.origin} is not a registered web domain of this app`);
      }
      const res = await fetch(url, {
        redirect: 'manual',
        signal,
        headers: { 'user-agent': 'Kapibara-Scrap/1.0 (+kakaotalk-scrap)', accept },
      });
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        await res.body?.cancel();
        if (hop >= maxRedirects) throw new FetchRefused('failed', `too many redirects (more than ${maxRedirects})`);
        url = parseTarget(new URL(res.headers.get('location')!, url).toString());
        continue;
      }
      if (res.status < 200 || res.status >= 300) {
        await res.body?.cancel();
        throw new FetchRefused('failed', `the page answered HTTP ${res.status}`);
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (declared > maxBytes) {
        await res.body?.cancel();
        throw new FetchRefused('too_large', `the page is larger than ${maxBytes} bytes`);
      }
      const bytes = await readCapped(res, maxBytes);
      const contentType = res.headers.get('content-type') ?? '';
      return { requestedUrl: rawUrl, url: url.toString(), status: res.status, contentType, bytes };
    }
  } catch (err) {
    if (err instanceof FetchRefused) throw err;
    if (signal.aborted) throw new FetchRefused('timeout', `the page did not answer within ${timeoutMs} ms`);
    // fetch's own error says only "fetch failed"; why (refused, no such host, a reset) is its cause.
    const cause = (err as { cause?: unknown }).cause;
    const why = cause instanceof Error ? cause.message : (err as Error).message;
    throw new FetchRefused('failed', `the page could not be fetched: ${why}`);
  }
}

async function readCapped(res: Response, maxBytes: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new FetchRefused('too_large', `the page is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Honours the charset of the header or of a `<meta charset>` (Korean pages are often EUC-KR). */
function decode(bytes: Uint8Array, contentType: string): string {
  let charset = /charset=([\w-]+)/i.exec(contentType)?.[1];
  if (!charset) {
    const head = Buffer.from(bytes.subarray(0, 2048)).toString('latin1');
    charset = /<meta[^>]+charset=["']?([\w-]+)/i.exec(head)?.[1];
  }
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

export interface OpenGraphImage {
  url: string;
  width?: number;
  height?: number;
}

export interface OpenGraph {
  title?: string;
  description?: string;
  siteName?: string;
  type?: string;
  url?: string;
  section?: string;
  /** Seconds (og:video:duration / video:duration). */
  duration?: number;
  images: OpenGraphImage[];
}

/**
 * Open Graph data of a page, falling back to `<title>` and `<meta name="description">`.
 * The HTML parser is loaded on the first page read, not when the server starts.
 */
export async function readOpenGraph(html: string, pageUrl: string): Promise<OpenGraph> {
  const { Parser } = await import('htmlparser2');
  const og: OpenGraph = { images: [] };
  let titleText = '';
  let inTitle = false;
  let metaDescription: string | undefined;
  const absolute = (value: string) => {
    try {
      return new URL(value, pageUrl).toString();
    } catch {
      return undefined;
    }
  };
  const positive = (value: string) => {
    const n = Number.parseInt(value, 10);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  };
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name === 'title') inTitle = true;
        if (name !== 'meta') return;
        const key = (attrs.property ?? attrs.name ?? '').toLowerCase();
        const content = attrs.content;
        if (content === undefined) return;
        const value = content.trim();
        switch (key) {
          case 'og:title':
            og.title ??= value;
            break;
          case 'og:description':
            og.description ??= value;
            break;
          case 'og:site_name':
            og.siteName ??= value;
            break;
          case 'og:type':
            og.type ??= value;
            break;
          case 'og:url':
            og.url ??= absolute(value);
            break;
          case 'article:section':
            og.section ??= value;
            break;
          case 'og:video:duration':
          case 'video:duration':
            og.duration ??= positive(value);
            break;
          case 'og:image':
          case 'og:image:url':
          case 'og:image:secure_url': {
            const url = absolute(value);
            // `og:image:url`/`secure_url` describe the image just declared by `og:image`.
            if (url && !(key !== 'og:image' && og.images.length > 0)) og.images.push({ url });
            break;
          }
          case 'og:image:width': {
            const last = og.images[og.images.length - 1];
            if (last) last.width = positive(value);
            break;
          }
          case 'og:image:height': {
            const last = og.images[og.images.length - 1];
            if (last) last.height = positive(value);
            break;
          }
          case 'description':
            metaDescription ??= value;
            break;
        }
      },
      ontext(text) {
        if (inTitle) titleText += text;
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  og.title ??= titleText.trim() || undefined;
  og.description ??= metaDescription;
  return og;
}

/**
 * Kakao's errors for a page the platform could not scrap (messaging's scrap templates,
 * Story's linkinfo, and later sharing): -603 when it did not answer in time, -604 when it
 * failed; a URL that is not allowed or not http(s) is -2 naming `param` where the API
 * treats it as a bad parameter (messaging), -604 otherwise (linkinfo).
 */
export function scrapRefusal(err: FetchRefused, url: string, param?: string): KakaoApiError {
  if (param && err.reason === 'not_allowed') return invalidParam(`invalid ${param}: ${err.message}.`);
  if (param && err.reason === 'bad_url') return invalidParam(`invalid ${param}: ${url} is not an http or https URL.`);
  if (err.reason === 'timeout') return new KakaoApiError(-603, `scrap timeout: ${err.message}.`, 400);
  return new KakaoApiError(-604, `scrap failed: ${err.message}.`, 400);
}

/** Fetches a page for an app (its registered web domains only), with Kakao's errors. */
export async function scrapForApp(url: string, webDomains: readonly string[], param?: string): Promise<FetchedPage> {
  try {
    return await fetchPage(url, webDomains);
  } catch (err) {
    if (err instanceof FetchRefused) throw scrapRefusal(err, url, param);
    throw err;
  }
}
