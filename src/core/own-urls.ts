/**
 * URLs of things Kapibara serves itself (avatars, uploaded images, story pages) are made
 * absolute on the origin each request came in on, so a client that reached Kapibara as
 * `https://kapi.kakao.com` (TLS listener, host mapping) gets `https://kapi.kakao.com/...`
 * back, never the address Kapibara happened to start on (a page on https cannot load an
 * http image). Such URLs are stored as paths (`/_kapibara/avatars/ryan_640.png`); absolute
 * URLs under `/_kapibara/` are Kapibara's too (demo people seeded by earlier versions were
 * stored with the start address). Everything else is someone else's URL and kept as given.
 */

const OWN_PREFIX = '/_kapibara/';

/** The absolute URL on `origin` when `url` is one of Kapibara's own; undefined otherwise. */
export function ownUrl(url: string, origin: string): string | undefined {
  if (url.startsWith('/') && !url.startsWith('//')) return origin + url;
  const scheme = url.startsWith('https://') ? 8 : url.startsWith('http://') ? 7 : 0;
  if (scheme === 0) return undefined;
  const path = url.indexOf('/', scheme);
  return path > 0 && url.startsWith(OWN_PREFIX, path) ? origin + url.slice(path) : undefined;
}

/** `url` as a client should see it: Kapibara's own on the request origin, others unchanged. */
export function urlForClient(url: string, origin: string): string {
  return ownUrl(url, origin) ?? url;
}

/**
 * Someone else's image URL on the scheme an API promises: Kakao serves its CDN images on
 * both, and APIs differ in which they answer (`secure_resource`, https-only fields).
 */
export function withScheme(url: string, scheme: 'http' | 'https'): string {
  if (scheme === 'https') return url.startsWith('http://') ? `https://${url.slice(7)}` : url;
  return url.startsWith('https://') ? `http://${url.slice(8)}` : url;
}

/** `http://` → `https://` for URLs of others (Kakao Talk profile images are https only). */
export function httpsUrl(url: string, origin: string): string {
  return ownUrl(url, origin) ?? withScheme(url, 'https');
}
