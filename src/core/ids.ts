import { createHash, randomBytes, randomInt } from 'node:crypto';

/**
 * Random identifiers. Numeric ids stay below 2^53 so JavaScript clients read them exactly;
 * the 10-digit range matches what modern production ids look like.
 */
export function numericId(): number {
  return randomInt(1_000_000_000, 9_999_999_999);
}

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
