import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT, jwtVerify, type JWTPayload, createLocalJWKSet } from 'jose';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';

/**
 * The RS256 key that signs id_tokens. Created once per store and persisted in `settings`,
 * so tokens stay verifiable across restarts and across instances sharing PostgreSQL.
 */
export class SigningKeys {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
  ) {}

  static async load(db: Kysely<DB>): Promise<SigningKeys> {
    const row = await db.selectFrom('settings').select('value').where('key', '=', 'signing_key').executeTakeFirst();
    let privateJwk: JWK;
    if (row) {
      privateJwk = JSON.parse(row.value);
    } else {
      const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
      privateJwk = { ...(await exportJWK(privateKey)), kid: cryptoKid(), alg: 'RS256', use: 'sig' };
      await db
        .insertInto('settings')
        .values({ key: 'signing_key', value: JSON.stringify(privateJwk) })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      // Another instance may have won the race; use whichever key was stored.
      const stored = await db.selectFrom('settings').select('value').where('key', '=', 'signing_key').executeTakeFirstOrThrow();
      privateJwk = JSON.parse(stored.value);
    }
    const privateKey = (await importJWK(privateJwk, 'RS256')) as CryptoKey;
    const { kty, n, e, kid, alg, use } = privateJwk;
    return new SigningKeys(privateKey, { kty, n, e, kid, alg, use });
  }

  get kid(): string {
    return this.publicJwk.kid!;
  }

  async sign(payload: JWTPayload): Promise<string> {
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' }).sign(this.privateKey);
  }

  async verify(token: string, options: { issuer?: string; audience?: string; currentDate?: Date } = {}): Promise<JWTPayload> {
    const jwks = createLocalJWKSet({ keys: [this.publicJwk] });
    const { payload } = await jwtVerify(token, jwks, options);
    return payload;
  }
}

function cryptoKid(): string {
  return globalThis.crypto.randomUUID().replace(/-/g, '');
}
