import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * The simulated people's passwords, stored as scrypt hashes in one self-describing string:
 *
 *   scrypt$<N>$<r>$<p>$<salt, base64url>$<hash, base64url>
 *
 * The parameters travel with each hash, so stronger ones later still verify old hashes.
 * N = 2^14, r = 8, p = 1 (Node's defaults, 16 MiB, tens of milliseconds): a simulator's
 * people are not worth more, and tests create many of them.
 */

const PREFIX = 'scrypt';
const COST = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const FORMAT = /^scrypt\$(\d{1,7})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,128})\$([A-Za-z0-9_-]{32,256})$/;

/** Documented for the demo people and the default of a new person (README, docs/control-plane.md). */
export const DEFAULT_PASSWORD = 'kapibara';

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password.normalize('NFC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Whether a stored or imported value is already a hash in this format (not a plaintext password). */
export function isPasswordHash(value: string): boolean {
  const m = FORMAT.exec(value);
  if (!m) return false;
  const n = Number(m[1]);
  // A power of two that Node accepts within its default memory bound (128 · N · r ≤ 32 MiB).
  return n > 1 && (n & (n - 1)) === 0 && 128 * n * Number(m[2]) <= 32 * 1024 * 1024 && Number(m[3]) >= 1;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await scrypt(password, salt, KEY_LENGTH, COST);
  return [PREFIX, COST.N, COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/**
 * The hash of the default password, computed once per process: every person created
 * without a password shares it (the password is public anyway), so creating people stays cheap.
 */
let defaultHash: Promise<string> | undefined;

/** The value to store for a password given in plaintext or already hashed (state import). */
export function passwordForStorage(value: string | undefined): Promise<string> {
  if (value === undefined || value === DEFAULT_PASSWORD) return (defaultHash ??= hashPassword(DEFAULT_PASSWORD));
  return isPasswordHash(value) ? Promise.resolve(value) : hashPassword(value);
}

/** Checks a password against a stored hash, in constant time; anything not a hash never matches. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  if (!isPasswordHash(stored)) return false;
  const [, n, r, p, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(key, expected);
}
