import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Store } from '../db/index.js';
import { registryKey, type RegistryKey } from '../db/registry.js';
import { referenceGone } from '../db/dialect.js';
import type { KeyType } from './model.js';
import { type AppCall, type Call, type PersonCall, type UserCall, ANY_KEY, baseCall, namedCaller, requireAppKey, requireScopes, requireUser, requireUserOrAdmin } from './auth.js';
import { type RawParams, rawParams, validateParams } from './params.js';
import { JSON_TYPE, type Surface } from './http.js';
import { KeptAnswers } from './kept-answers.js';
import type { CallIdentity } from './inspector.js';

/**
 * One way to declare an emulated Kakao API route: its literal path, who may call it, the
 * api_type and scopes it needs, its parameters and its answer. Registration builds the
 * `Call`, checks scopes (-3 for a consent item the app turned off, then -402), validates
 * the parameters (-2 naming the parameter), runs the handler and serializes its result with
 * the response schema. Handlers never see HTTP.
 *
 *   route({
 *     method: 'GET', url: '/v1/api/talk/friends', auth: 'user',
 *     apiType: 'FRIENDS', scopes: ['friends'], params: FriendsQuery,
 *     response: FriendsResponse, handler: (call, input) => friendsList(call, input),
 *   })
 */

/**
 * - `user`: `Authorization: Bearer <access token>` (or `access_token` as a parameter);
 * - `user-or-admin`: that, or the app's admin key with `target_id_type=user_id&target_id=…`;
 * - `app-key`: `KakaoAK <key>` of a type listed in `keys` (all four by default);
 * - `none`: anyone (kauth endpoints that check their client themselves, public documents).
 */
export type AuthKind = 'user' | 'user-or-admin' | 'app-key' | 'none';

export type CallOf<A extends AuthKind> = A extends 'user' ? UserCall : A extends 'user-or-admin' ? PersonCall : A extends 'app-key' ? AppCall : Call;

type InputOf<P> = P extends TSchema ? Static<P> : RawParams;

export interface RouteDeclaration<A extends AuthKind = AuthKind, P extends TSchema | undefined = TSchema | undefined, B = undefined> {
  method: HTTPMethods | HTTPMethods[];
  /** The literal documented path: a grep for a Kakao URL lands here. */
  url: string;
  /** The error shape of every answer: kapi (default) or kauth. */
  surface?: Extract<Surface, 'kapi' | 'kauth'>;
  auth: A;
  /** For `app-key`: the key types that may call (-3 for the others). */
  keys?: readonly KeyType[];
  /** The api_type -402 (and -3) name; required with `scopes`. */
  apiType?: string;
  /** Consent items the person must have agreed to. */
  scopes?: readonly string[];
  /** Query and form fields (merged, body wins), validated against this TypeBox object. */
  params?: P;
  /** Reads a body the parameters do not cover (multipart uploads, a JSON document); runs after `params`. */
  body?: (req: FastifyRequest) => Promise<B>;
  /**
   * The body is a JSON document (`application/json`), read by `body`: Kakao's customer-file
   * APIs. Every other kapi and kauth route takes form fields, as the platform does (wire
   * facts §1.2), and leaves a JSON body unread (core/json.ts).
   */
  jsonBody?: true;
  /** The 200 body's schema (serialization), or `empty` for a 200 with no body. */
  response?: TSchema | 'empty';
  /** Headers sent with every 200 of this route. */
  headers?: Readonly<Record<string, string>>;
  /**
   * Keep the serialized answer while the store is unchanged (hot read-only GETs; see
   * KeptAnswers): `varies` names what else than the credential and URL it depends on.
   */
  keep?: { varies: (call: Call) => string; validUntil: (call: CallOf<A>) => number };
  handler: (call: CallOf<A>, input: InputOf<P>, extra: { raw: RawParams; body: B }) => unknown;
}

/** Declares a route; only here so TypeScript infers the call and input types. */
export function route<A extends AuthKind, P extends TSchema | undefined = undefined, B = undefined>(
  declaration: RouteDeclaration<A, P, B>,
): RouteDeclaration<A, P, B> {
  return declaration;
}

async function authenticate(req: FastifyRequest, d: RouteDeclaration, fresh = false): Promise<Call> {
  try {
    switch (d.auth) {
      case 'user':
        return await requireUser(req, fresh);
      case 'user-or-admin':
        return await requireUserOrAdmin(req, fresh);
      case 'app-key':
        return await requireAppKey(req, d.keys ?? ANY_KEY);
      default:
        return baseCall(req);
    }
  } catch (err) {
    await identifyRefused(req, d);
    throw err;
  }
}

/**
 * A call refused by its credential (a key of the wrong type, an admin key naming a person
 * not linked, an expired token) is still its app's: the inspector records the app (and the
 * person) the credential names, so that `?app=` lists the app's failed calls too.
 */
async function identifyRefused(req: FastifyRequest, d: RouteDeclaration): Promise<void> {
  let named: Awaited<ReturnType<typeof namedCaller>>;
  try {
    named = await namedCaller(req);
  } catch {
    return; // The refusal stands as it is; who made the call stays unknown.
  }
  if (!named) return;
  req.kapibaraCall = {
    surface: d.surface ?? 'kapi',
    appId: named.app.id,
    accountId: named.account?.id ?? null,
    userId: named.link?.userId ?? null,
    scopes: named.link ? Object.keys(named.link.scopes) : null,
    apiType: d.apiType ?? null,
  };
}

/**
 * A write refused by a foreign key while the call was under way: its person or app was
 * deleted, or the store reset or replaced, after the call was authenticated. It is answered
 * as it would have been had it come after: the credential, looked up again in the database,
 * no longer names anyone (-401). A credential that still works leaves the error as it was.
 */
async function refusalNow(req: FastifyRequest, d: RouteDeclaration, err: unknown): Promise<unknown> {
  if (!referenceGone(err)) return err;
  try {
    await authenticate(req, d, true);
  } catch (refusal) {
    return refusal;
  }
  return err;
}

/** Who made the call, for the request inspector (core/inspector.ts). */
function identify(call: Call, d: RouteDeclaration): CallIdentity {
  const person = call as Partial<PersonCall>;
  return {
    surface: d.surface ?? 'kapi',
    appId: person.app?.id ?? null,
    accountId: person.account?.id ?? null,
    userId: person.link?.userId ?? null,
    scopes: person.link ? Object.keys(person.link.scopes) : null,
    apiType: d.apiType ?? null,
  };
}

const keptAnswers = new WeakMap<RouteDeclaration, RegistryKey<KeptAnswers>>();
function keptFor(d: RouteDeclaration): RegistryKey<KeptAnswers> {
  let key = keptAnswers.get(d);
  if (!key) keptAnswers.set(d, (key = registryKey(`kept answers: ${d.url}`, (store: Store) => new KeptAnswers(store))));
  return key;
}

/** Registers declared routes on `app` (one Fastify route each). */
export function registerRoutes(app: FastifyInstance, declarations: readonly RouteDeclaration<any, any, any>[]): void {
  for (const d of declarations as RouteDeclaration[]) {
    if (d.scopes?.length && !d.apiType) throw new Error(`${d.url}: scopes need an apiType`);
    if (d.jsonBody && (d.params || !d.body)) throw new Error(`${d.url}: a JSON body is read by \`body\`, not \`params\``);
    const respond = async (req: FastifyRequest, reply: FastifyReply, call: Call) => {
      req.kapibaraCall = identify(call, d);
      if (d.scopes?.length) requireScopes(call as PersonCall, d.apiType!, d.scopes);
      const raw = rawParams(req);
      const input = d.params ? validateParams(d.params, raw) : raw;
      const body = d.body ? await d.body(req) : undefined;
      try {
        return await d.handler(call as never, input as never, { raw, body });
      } catch (err) {
        throw await refusalNow(req, d, err);
      }
    };
    const schema = d.response && d.response !== 'empty' ? { response: { 200: d.response } } : undefined;
    app.route({
      method: d.method,
      url: d.url,
      config: { surface: d.surface ?? 'kapi', declaration: d },
      schema,
      handler: async (req, reply) => {
        if (d.keep) {
          const keep = d.keep;
          const answers = req.server.platform.store.registry.get(keptFor(d));
          return answers.serve(req, reply, keep.varies(baseCall(req)), async () => {
            const call = await authenticate(req, d);
            return { payload: await respond(req, reply, call), validUntil: keep.validUntil(call as never), who: req.kapibaraCall ?? undefined };
          });
        }
        const result = await respond(req, reply, await authenticate(req, d));
        if (d.headers) for (const [k, v] of Object.entries(d.headers)) reply.header(k, v);
        // 200 with no body, still typed as JSON (seed 000: Content-Length: 0).
        if (d.response === 'empty') return reply.status(200).type(JSON_TYPE).send('');
        return result;
      },
    });
  }
}
