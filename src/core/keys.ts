import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { JWK, JWTPayload } from 'jose';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';

/** Why a stored `signing_key` setting cannot sign ID tokens (undefined: it can). */
export function signingKeyProblem(value: string): string | undefined {
  let jwk: JWK;
  try {
    jwk = JSON.parse(value) as JWK;
  } catch {
    return 'signing_key is not JSON (an RSA private key as a JWK)';
  }
  if (typeof jwk !== 'object' || jwk === null || jwk.kty !== 'RSA' || typeof jwk.kid !== 'string' || typeof jwk.d !== 'string') {
    return 'signing_key must be an RSA private key as a JWK, with "kid"';
  }
  try {
    createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch (err) {
    return `signing_key is not a usable RSA private key: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * The RS256 key that signs id_tokens. Created once per store and persisted in `settings`,
 * so tokens stay verifiable across restarts and across instances sharing PostgreSQL. The
 * key is read with node:crypto; jose is loaded when the first token is signed or verified.
 */
export class SigningKeys {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly publicJwk: JWK,
  ) {}

  static async load(db: Kysely<DB>): Promise<SigningKeys> {
    const row = await db.selectFrom('settings').select('value').where('key', '=', 'signing_key').executeTakeFirst();
    let privateJwk: JWK;
    if (row) {
      privateJwk = JSON.parse(row.value);
    } else {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      privateJwk = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: cryptoKid(), alg: 'RS256', use: 'sig' };
      await db
        .insertInto('settings')
        .values({ key: 'signing_key', value: JSON.stringify(privateJwk) })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      // Another instance may have won the race; use whichever key was stored.
      const stored = await db.selectFrom('settings').select('value').where('key', '=', 'signing_key').executeTakeFirstOrThrow();
      privateJwk = JSON.parse(stored.value);
    }
    return SigningKeys.fromJwk(privateJwk);
  }

  /** The key a stored `signing_key` setting holds (checked by signingKeyProblem). */
  static fromStored(value: string): SigningKeys {
    return SigningKeys.fromJwk(JSON.parse(value) as JWK);
  }

  private static fromJwk(privateJwk: JWK): SigningKeys {
    const privateKey = createPrivateKey({ key: privateJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    const { kty, n, e, kid, alg, use } = privateJwk;
    return new SigningKeys(privateKey, { kty, n, e, kid, alg, use });
  }

  get kid(): string {
    return this.publicJwk.kid!;
  }

  async sign(payload: JWTPayload): Promise<string> {
    const { SignJWT } = await import('jose');
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' }).sign(this.privateKey);
  }

  async verify(token: string, options: { issuer?: string; audience?: string; currentDate?: Date } = {}): Promise<JWTPayload> {
    const { createLocalJWKSet, jwtVerify } = await import('jose');
    const jwks = createLocalJWKSet({ keys: [this.publicJwk] });
    const { payload } = await jwtVerify(token, jwks, options);
    return payload;
  }
}

function cryptoKid(): string {
  return globalThis.crypto.randomUUID().replace(/-/g, '');
}
