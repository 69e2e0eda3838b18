import { createHash, randomBytes } from 'node:crypto';

/** Random tokens and keys. Numeric ids are issued by the store: db/ids.ts. */

/** Url-safe random token, `bytes` of entropy. */
export function randomToken(bytes = 40): string {
  return randomBytes(bytes).toString('base64url');
}

/** App keys look like Kakao's: 32 lowercase hex characters. */
export function appKey(): string {
  return randomBytes(16).toString('hex');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
