import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ControlError } from '../../core/errors.js';
import { originOf } from '../../core/platform.js';
import { mustAccount, mustApp } from '../../control/lookups.js';
import { asAfterDeletes } from '../../db/dialect.js';
import { Id, LIMITS as L, Text } from '../../control/limits.js';
import { configuredScopes, grantConsent } from '../../store/grants.js';
import { issueTokens } from '../../store/tokens.js';
import { mintedIdToken } from './oidc.js';

/** Kakao Login control-plane routes, mounted under /_kapibara/v1: tokens without a browser. */

const LinkParams = Type.Object({ app_id: Id, account_id: Id });
const TokenBody = Type.Object(
  {
    scopes: Type.Optional(Type.Array(Text(L.scope), { maxItems: L.scopesPerRequest })),
    terms: Type.Optional(Type.Array(Text(L.termTag), { maxItems: L.serviceTerms })),
    nonce: Type.Optional(Text(L.url)),
  },
  { additionalProperties: false },
);

export default async function loginControlRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  // Tokens without a browser: consent (by default to every configured item) and issue.
  app.post('/apps/:app_id/users/:account_id/tokens', { schema: { params: LinkParams, body: TokenBody } }, async (req) => {
    const target = await mustApp(app.platform.db, req.params.app_id);
    await mustAccount(app.platform.db, req.params.account_id);
    const scopes = req.body?.scopes ?? configuredScopes(target);
    for (const s of scopes) if (!app.platform.scopes.has(s)) throw new ControlError(400, `unknown scope "${s}"`);
    const terms = req.body?.terms ?? target.serviceTerms.map((t) => t.tag);
    const { db, clock } = app.platform;
    const lookUp = async () => {
      await mustApp(db, req.params.app_id);
      await mustAccount(db, req.params.account_id);
    };
    const link = await asAfterDeletes(() => grantConsent(db, target, req.params.account_id, { scopes, terms }, clock.now()), lookUp);
    // As a server exchanging a code with the REST API key would get them.
    const tokens = await asAfterDeletes(() => issueTokens(db, { appId: target.id, accountId: req.params.account_id, keyType: 'rest_api', now: clock.now() }), lookUp);
    const idToken = await mintedIdToken(app.platform, { app: target, link, scopes, issuer: originOf(req), nonce: req.body?.nonce, lifetime: tokens.expiresIn });
    return {
      token_type: 'bearer',
      access_token: tokens.accessToken,
      id_token: idToken,
      expires_in: tokens.expiresIn,
      refresh_token: tokens.refreshToken,
      refresh_token_expires_in: tokens.refreshTokenExpiresIn,
      scope: Object.keys(link.scopes).join(' '),
      user_id: link.userId,
    };
  });
}
