import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import { ControlError } from '../core/errors.js';
import { CREATED, JSON_TYPE, NO_CONTENT } from '../core/http.js';
import type { ScopeCatalog } from '../core/scopes.js';
import { CLOCK_OFFSET_SETTING, ClockChangeError, changedOffset, isoSeconds } from '../core/clock.js';
import type { Product } from '../core/product.js';
import { type App, appInputFromJson, createApp, deleteApp, listAppsPage, updateApp } from '../store/apps.js';
import { type Account, accountInputFromJson, createAccount, deleteAccount, findAccountByEmail, listAccounts, updateAccount } from '../store/accounts.js';
import { addFriendship, listFriends, removeFriendship } from '../store/friendships.js';
import { mustAccount as findAccountOr404, mustApp as findAppOr404, uniquely } from './lookups.js';
import { changeLink, deleteLink, findLink, type Link } from '../store/links.js';
import { exportStateText, importState, resetState, StateFormatError, type StateDocument } from '../store/state.js';
import { expiredBefore, sweepExpired } from '../store/expiry.js';
import { ensureLinked } from '../store/grants.js';
import { againIfRolledBack, asAfterDeletes, concurrencyFailure } from '../db/dialect.js';
import { applyStoredSettings } from '../core/stored-settings.js';
import requestsRoutes from './requests.js';
import { Id, LIMITS as L, Text } from './limits.js';
import { CONTROL_PREFIX, LIST_PAGE, ListQuery, pageById } from './paging.js';
import { AppBody, AccountBody, LinkProperties, OptBool, Scopes, webDomainsProblem } from './bodies.js';

export { CONTROL_PREFIX, LIST_PAGE };

/**
 * A state document's size limit (other bodies keep the server's 12 MB): below the longest
 * string V8 holds (2^29 characters), which the JSON text must be.
 */
export const STATE_BODY_LIMIT = 500 * 1024 * 1024;

/**
 * The control plane: what tests and the console use to set up and inspect the platform.
 * JSON in and out, snake_case fields in the same shape as the state format
 * (docs/control-plane.md). Errors are `{ "error": "…" }`.
 */

const LinkBody = Type.Object(
  {
    scopes: Type.Optional(Scopes),
    terms: Type.Optional(Type.Array(Text(L.termTag), { maxItems: L.serviceTerms })),
    properties: Type.Optional(LinkProperties),
    signed_up: OptBool,
    /** Replace the agreed scopes instead of adding to them. */
    replace: OptBool,
  },
  { additionalProperties: false },
);

const FriendshipBody = Type.Object(
  {
    account_id: Id,
    friend_account_id: Id,
    favorite: OptBool,
    friend_favorite: OptBool,
  },
  { additionalProperties: false },
);

const ClockBody = Type.Object(
  {
    advance_seconds: Type.Optional(Type.Number()),
    offset_ms: Type.Optional(Type.Number()),
    now: Type.Optional(Type.String({ format: 'date-time', maxLength: L.dateTime })),
  },
  { additionalProperties: false },
);

const AppIdParams = Type.Object({ app_id: Id });

const AccountIdParams = Type.Object({ account_id: Id });
const LinkParams = Type.Object({ app_id: Id, account_id: Id });

export function appJson(app: App) {
  return {
    id: app.id,
    name: app.name,
    rest_api_key: app.keys.rest_api,
    native_key: app.keys.native,
    javascript_key: app.keys.javascript,
    admin_key: app.keys.admin,
    client_secret: app.clientSecret,
    redirect_uris: app.redirectUris,
    logout_redirect_uris: app.logoutRedirectUris,
    web_domains: app.webDomains,
    consent_items: app.consentItems,
    service_terms: app.serviceTerms,
    user_property_keys: app.userPropertyKeys,
    login_enabled: app.loginEnabled,
    oidc_enabled: app.oidcEnabled,
    manual_signup: app.manualSignup,
  };
}

export function accountJson(a: Account) {
  return {
    id: a.id,
    email: a.email,
    nickname: a.nickname,
    profile_image_url: a.profileImageUrl,
    thumbnail_image_url: a.thumbnailImageUrl,
    name: a.name,
    gender: a.gender,
    birthyear: a.birthyear,
    birthday: a.birthday,
    birthday_type: a.birthdayType,
    is_leap_month: a.isLeapMonth,
    phone_number: a.phoneNumber,
    is_korean: a.isKorean,
    email_verified: a.emailVerified,
    talk_user: a.talkUser,
    story_user: a.storyUser,
  };
}

function linkJson(link: Link) {
  return {
    app_id: link.appId,
    account_id: link.accountId,
    user_id: link.userId,
    uuid: link.uuid,
    connected_at: isoSeconds(link.connectedAt),
    signed_up: link.signedUpAt !== null,
    properties: link.properties,
    scopes: Object.keys(link.scopes),
    terms: Object.keys(link.terms),
  };
}

function appInput(scopes: ScopeCatalog, body: Static<typeof AppBody>) {
  for (const scope of Object.keys(body.consent_items ?? {})) {
    if (!scopes.has(scope)) throw new ControlError(400, `unknown consent item "${scope}"`);
  }
  const domains = body.web_domains && webDomainsProblem(body.web_domains);
  if (domains) throw new ControlError(400, `web_domains ${domains}`);
  return appInputFromJson(body);
}

function checkOperator(req: FastifyRequest): void {
  const token = req.server.platform.config.operatorToken;
  if (!token) return;
  const header = req.headers.authorization ?? '';
  const given = header.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : req.headers['x-kapibara-token'];
  if (given !== token) throw new ControlError(401, 'operator token required: Authorization: Bearer <operator token>');
}

/**
 * The control plane's shell: the operator token, the core aggregates (apps, people,
 * friendships, links, tokens), the clock and the whole state; each product adds its own
 * routes (`control` of its module). Every route here is on the `control` surface.
 */
export default async function controlRoutes(root: FastifyInstance, products: readonly Product[]): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', async (req, reply) => {
    checkOperator(req);
    // A route's declared success status (core/http.ts `success`); errors set their own.
    const success = req.routeOptions.config.success;
    if (success !== undefined) reply.status(success);
  });
  // A bodiless POST, PUT or PATCH (sent with X-Kapibara-Control: 1, docs/control-plane.md)
  // is an empty object: every field left out, as `{}` would say.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH')) req.body = {};
  });
  for (const product of products) if (product.control) await app.register(product.control);
  await app.register(requestsRoutes);

  const mustApp = (id: number) => findAppOr404(app.platform.db, id);
  const mustAccount = (id: number) => findAccountOr404(app.platform.db, id);

  // Apps
  app.post('/apps', { config: CREATED, schema: { body: AppBody } }, async (req) => {
    const { db, clock } = app.platform;
    const created = await uniquely('app', () => createApp(db, appInput(app.platform.scopes, req.body), clock.now()));
    return appJson(created);
  });
  app.get('/apps', { schema: { querystring: Type.Object(ListQuery) } }, async (req, reply) => {
    const limit = req.query.limit ?? LIST_PAGE;
    return pageById(reply, '/apps', await listAppsPage(app.platform.db, req.query.after, limit + 1), limit).map(appJson);
  });
  app.get('/apps/:app_id', { schema: { params: AppIdParams } }, async (req) => appJson(await mustApp(req.params.app_id)));
  app.patch('/apps/:app_id', { schema: { params: AppIdParams, body: AppBody } }, async (req) => {
    await mustApp(req.params.app_id);
    const { id: _ignored, ...rest } = req.body;
    const updated = await uniquely('app', () => updateApp(app.platform.db, req.params.app_id, appInput(app.platform.scopes, rest)));
    return appJson(updated!);
  });
  app.delete('/apps/:app_id', { config: NO_CONTENT, schema: { params: AppIdParams } }, async (req, reply) => {
    const deleted = await madeAgainOr409(() => deleteApp(app.platform.db, req.params.app_id));
    if (!deleted) throw new ControlError(404, `app ${req.params.app_id} not found`);
    return reply.send();
  });

  // Accounts (simulated people)
  app.post('/accounts', { config: CREATED, schema: { body: AccountBody } }, async (req) => {
    const { db, clock } = app.platform;
    const created = await uniquely('account', () => createAccount(db, accountInputFromJson(req.body), clock.now()));
    return accountJson(created);
  });
  app.get('/accounts', { schema: { querystring: Type.Object({ email: Type.Optional(Text(L.email)), ...ListQuery }) } }, async (req, reply) => {
    if (req.query.email) {
      const found = await findAccountByEmail(app.platform.db, req.query.email);
      return found ? [accountJson(found)] : [];
    }
    const limit = req.query.limit ?? LIST_PAGE;
    return pageById(reply, '/accounts', await listAccounts(app.platform.db, req.query.after, limit + 1), limit).map(accountJson);
  });
  app.get('/accounts/:account_id', { schema: { params: AccountIdParams } }, async (req) =>
    accountJson(await mustAccount(req.params.account_id)),
  );
  app.patch('/accounts/:account_id', { schema: { params: AccountIdParams, body: AccountBody } }, async (req) => {
    await mustAccount(req.params.account_id);
    const { id: _ignored, ...rest } = req.body;
    const updated = await uniquely('account', () => updateAccount(app.platform.db, req.params.account_id, accountInputFromJson(rest)));
    return accountJson(updated!);
  });
  app.delete('/accounts/:account_id', { config: NO_CONTENT, schema: { params: AccountIdParams } }, async (req, reply) => {
    const deleted = await madeAgainOr409(() => deleteAccount(app.platform.db, req.params.account_id));
    if (!deleted) {
      throw new ControlError(404, `account ${req.params.account_id} not found`);
    }
    return reply.send();
  });

  // Friendships (mutual)
  app.post('/friendships', { config: CREATED, schema: { body: FriendshipBody } }, async (req) => {
    const { account_id: a, friend_account_id: b } = req.body;
    if (a === b) throw new ControlError(400, 'a person cannot be their own friend');
    const lookUp = async () => {
      await mustAccount(a);
      await mustAccount(b);
    };
    await lookUp();
    await asAfterDeletes(
      () => addFriendship(app.platform.db, a, b, app.platform.clock.now(), { ab: req.body.favorite ?? false, ba: req.body.friend_favorite ?? false }),
      lookUp,
    );
    return { account_id: a, friend_account_id: b };
  });
  app.delete('/friendships', { config: NO_CONTENT, schema: { body: FriendshipBody } }, async (req, reply) => {
    const { account_id: a, friend_account_id: b } = req.body;
    if (!(await removeFriendship(app.platform.db, a, b))) throw new ControlError(404, `accounts ${a} and ${b} are not friends`);
    return reply.send();
  });
  app.get('/accounts/:account_id/friends', { schema: { params: AccountIdParams } }, async (req) => {
    await mustAccount(req.params.account_id);
    const friends = await listFriends(app.platform.db, req.params.account_id);
    return friends.map((f) => ({ account_id: f.accountId, nickname: f.nickname, favorite: f.favorite }));
  });

  // App–person links: consents, properties, signup state
  app.get('/apps/:app_id/users/:account_id', { schema: { params: LinkParams } }, async (req) => {
    const link = await findLink(app.platform.db, req.params.app_id, req.params.account_id);
    if (!link) throw new ControlError(404, `account ${req.params.account_id} is not linked to app ${req.params.app_id}`);
    return linkJson(link);
  });
  app.put('/apps/:app_id/users/:account_id', { schema: { params: LinkParams, body: LinkBody } }, async (req) => {
    const lookUp = async () => {
      const found = await mustApp(req.params.app_id);
      await mustAccount(req.params.account_id);
      return found;
    };
    const target = await lookUp();
    for (const s of req.body.scopes ?? []) if (!app.platform.scopes.has(s)) throw new ControlError(400, `unknown scope "${s}"`);
    const { db, clock } = app.platform;
    const { scopes, terms, properties, signed_up: signedUp, replace } = req.body;
    const now = clock.now();
    await asAfterDeletes(() => ensureLinked(db, target, req.params.account_id, now), lookUp);
    const link = await changeLink(db, target.id, req.params.account_id, (link) => {
      if (replace) {
        link.scopes = {};
        link.terms = {};
      }
      for (const s of scopes ?? []) link.scopes[s] ??= now;
      for (const t of terms ?? []) link.terms[t] ??= { agreed_at: now, agreed_by: 'KAUTH' };
      if (properties) link.properties = { ...link.properties, ...properties };
      if (signedUp !== undefined) link.signedUpAt = signedUp ? (link.signedUpAt ?? now) : null;
    });
    if (!link) {
      await lookUp(); // The app or the person deleted since, with the link: their 404.
      throw new ControlError(409, `account ${req.params.account_id} was unlinked from app ${target.id} while this call changed the link`);
    }
    return linkJson(link);
  });
  app.delete('/apps/:app_id/users/:account_id', { config: NO_CONTENT, schema: { params: LinkParams } }, async (req, reply) => {
    const { app_id: appId, account_id: accountId } = req.params;
    await mustApp(appId);
    await mustAccount(accountId);
    if (!(await deleteLink(app.platform.db, appId, accountId))) throw new ControlError(404, `account ${accountId} is not linked to app ${appId}`);
    return reply.send();
  });

  // Clock
  app.get('/clock', {}, async () => clockJson());
  app.post('/clock', { schema: { body: ClockBody } }, async (req) => {
    const { clock } = app.platform;
    let offset: number;
    try {
      offset = changedOffset(clock, req.body);
    } catch (err) {
      if (err instanceof ClockChangeError) throw new ControlError(400, err.message);
      throw err;
    }
    // Stored first, then held: a reload of the settings (core/stored-settings.ts) that read
    // before this write cannot put the older offset back over it.
    await app.platform.db
      .insertInto('settings')
      .values({ key: CLOCK_OFFSET_SETTING, value: String(offset) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(offset) }))
      .execute();
    clock.setOffset(offset);
    return clockJson();
  });
  function clockJson() {
    const { clock } = app.platform;
    return { now: new Date(clock.now()).toISOString(), offset_ms: clock.offset };
  }

  // Whole state
  // Sent row by row: an export may be more text than one string holds (store/state.ts).
  app.get('/state', {}, async (_req, reply) => reply.type(JSON_TYPE).send(Readable.from(exportStateText(app.platform.db, app.platform.tables, app.platform.clock.now()))));
  // An export carries every uploaded image (base64): what GET /state answered, PUT takes back.
  app.put('/state', { bodyLimit: STATE_BODY_LIMIT }, async (req) => ({ imported: await importDoc(req.body as StateDocument, true) }));
  app.post('/state', { bodyLimit: STATE_BODY_LIMIT }, async (req) => ({ imported: await importDoc(req.body as StateDocument, false) }));
  // What the timed sweep removes (store/expiry.ts), now: expired tokens, codes, sessions.
  app.post('/expired/sweep', {}, async () => {
    const now = app.platform.clock.now();
    const removed = (await sweepExpired(app.platform.store, app.platform.tables, now, { wait: true }))!;
    return { removed, expired_before: new Date(expiredBefore(now)).toISOString() };
  });
  app.post('/reset', {}, async () => {
    await madeAgainOr409(() => resetState(app.platform.db, app.platform.tables));
    app.platform.store.registry.clear();
    app.platform.clock.setOffset(0);
    return { reset: true };
  });

  async function importDoc(doc: StateDocument, replace: boolean) {
    try {
      const counts = await madeAgainOr409(() => importState(app.platform.db, app.platform.tables, doc, app.platform.clock.real(), { replace }));
      app.platform.store.registry.clear();
      // The document may carry another signing key and clock offset: use what is stored now
      // (other instances on the same database do the same when told, core/stored-settings.ts).
      await applyStoredSettings(app.platform);
      return counts;
    } catch (err) {
      if (err instanceof StateFormatError) throw new ControlError(400, err.message);
      throw err;
    }
  }
}

/**
 * An import or reset that PostgreSQL ended for running beside other writes (a deadlock with
 * calls under way): rolled back whole, so it is a 409 that says to send it again, not a 500
 * nor a 400 blaming the document.
 */
/**
 * A whole-store write (a reset, an import, a delete of a person or an app) that PostgreSQL
 * rolled back for a deadlock with writes under way is made again; after three tries, the
 * retryable 409. Nothing of a rolled-back try was written.
 */
async function madeAgainOr409<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await againIfRolledBack(write);
  } catch (err) {
    throw retryable(err);
  }
}

export function retryable(err: unknown): unknown {
  if (!concurrencyFailure(err)) return err;
  return new ControlError(409, `the state change met writes made at the same time and was rolled back (${(err as Error).message}): nothing changed; send it again.`);
}
