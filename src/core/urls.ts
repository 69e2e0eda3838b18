/**
 * An image URL on the scheme an API promises: Kakao serves its CDN images on both, and
 * APIs differ in which they answer (`secure_resource`, https-only fields).
 */
export function withScheme(url: string, scheme: 'http' | 'https'): string {
  if (scheme === 'https') return url.startsWith('http://') ? `https://${url.slice(7)}` : url;
  return url.startsWith('https://') ? `http://${url.slice(8)}` : url;
}
