import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { Store, StoreOptions } from './db/index.js';
import { Clock, storedClockOffset } from './core/clock.js';
import { storedOffsetText } from './store/state.js';
import { SigningKeys } from './core/keys.js';
import { followStoredSettings, type ServedCertificate } from './core/stored-settings.js';
import { BackgroundWork } from './core/background.js';
import { type Surface, type SurfacePrefix, clientErrorHandler, frameworkErrorHandler, installErrorHandling } from './core/http.js';
import { installValidation } from './core/validation.js';
import { installJsonParsing } from './core/json.js';
import { parseForm } from './core/form.js';
import { ScopeCatalog } from './core/scopes.js';
import { registerRoutes } from './core/route.js';
import type { Plugin, Product } from './core/product.js';
import { installGetForms } from './core/get-form.js';
import { installInspector, type InspectorOptions } from './core/inspector.js';
import { RequestPhases } from './core/phases.js';
import { installSecurity, operatorTokenProblem, serverLimitOptions, trustedProxies, type SecurityOptions } from './core/security.js';
import type { PlatformConfig } from './core/platform.js';
import { storeDirectory } from './store/directory.js';
import { startSweeper, sweepExpired } from './store/expiry.js';
import { products as defaultProducts } from './products/index.js';
import { openStore, stateTables, storeSchema } from './kapibara.js';
import controlRoutes, { CONTROL_PREFIX } from './control/routes.js';
import consoleRoutes, { CONSOLE_PREFIX } from './console/routes.js';
import avatarRoutes, { AVATAR_PREFIX } from './console/avatars.js';
import { HEALTH_PATH, healthRoutes } from './control/health.js';
import { collectRoutes, openApiDocument } from './core/openapi.js';
import { VERSION } from './version.js';

export const OPENAPI_PATH = '/_kapibara/openapi.json';

export interface AppOptions extends StoreOptions, PlatformConfig, SecurityOptions {
  /** An already-open store (tests share one per file); otherwise one is opened. */
  store?: Store;
  clock?: Clock;
  logger?: FastifyServerOptions['logger'];
  /** The products to serve (default: all of src/products/index.ts). */
  products?: readonly Product[];
  /** The request inspector's retention and body recording (core/inspector.ts). */
  inspector?: InspectorOptions;
  /** How often expired tokens, codes and sessions are removed (store/expiry.ts; default 10 minutes). */
  sweepIntervalMs?: number;
}

/** Kapibara's own paths; each product adds the prefixes of its surfaces. */
export const SHELL_SURFACES: SurfacePrefix[] = [
  { prefix: '/_kapibara/', surface: 'control' },
  { prefix: CONSOLE_PREFIX, surface: 'page' },
  { prefix: AVATAR_PREFIX, surface: 'kapi' },
];

const HEAD = Symbol('kapibara.head');
type HeadRequest = IncomingMessage & { [HEAD]?: true };

/** Fastify's rewriteUrl, called before routing: routes a HEAD request as a GET. */
function routeHeadAsGet(req: IncomingMessage): string {
  if (req.method === 'HEAD') {
    req.method = 'GET';
    (req as HeadRequest)[HEAD] = true;
  }
  return req.url ?? '/';
}

/** Registers `plugin` so that its routes belong to `surface` (unless one declares its own). */
function onSurface(surface: Surface, plugin: Plugin) {
  return async (app: FastifyInstance) => {
    app.addHook('onRoute', (options) => {
      options.config = { surface, ...(options.config ?? {}) };
    });
    await plugin(app);
  };
}

/** The one factory used by the server, the CLI and the tests. */
export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const tokenProblem = options.operatorToken ? operatorTokenProblem(options.operatorToken) : undefined;
  if (tokenProblem) throw new TypeError(`operatorToken: ${tokenProblem}`);
  const products = options.products ?? defaultProducts;
  const store = options.store ?? (await openStore(options, products));
  const clock = options.clock ?? new Clock();
  const offset = await storedOffsetText(store.db);
  if (offset !== undefined) clock.setOffset(storedClockOffset(offset) ?? 0);
  const keys = await SigningKeys.load(store.db);
  const surfaces = [...SHELL_SURFACES, ...products.flatMap((p) => p.surfaces ?? [])];

  const app = Fastify({
    logger: options.logger ?? false,
    trustProxy: trustedProxies(options),
    ...serverLimitOptions(options),
    // Kakao ids and keys are case-sensitive but paths are matched as documented.
    routerOptions: { ignoreTrailingSlash: true },
    // Every GET answers HEAD too, by the same route: a HEAD request is routed as a GET (and a
    // HEAD again from its first hook on, below). Node leaves the body out of an answer to a
    // HEAD request by itself. Routes of their own for HEAD, as Fastify makes them, doubled the
    // router's work at every start.
    exposeHeadRoutes: false,
    rewriteUrl: routeHeadAsGet,
    bodyLimit: 12 * 1024 * 1024,
    frameworkErrors: frameworkErrorHandler(surfaces),
    clientErrorHandler: clientErrorHandler(surfaces),
  });
  // One onRequest and one onSend hook for the steps every request pays (core/phases.ts).
  const phases = new RequestPhases(app);
  phases.onArrival((request) => {
    if ((request.raw as HeadRequest)[HEAD]) request.raw.method = 'HEAD';
    return false;
  });
  const registered = collectRoutes(app);
  app.decorate('platform', {
    store,
    db: store.db,
    dialect: store.dialect,
    clock,
    keys,
    config: { publicUrl: options.publicUrl, operatorToken: options.operatorToken },
    scopes: new ScopeCatalog(products.flatMap((p) => p.consentItems ?? [])),
    directory: storeDirectory(store),
    tables: stateTables(products),
    servedCertificates: new Set<ServedCertificate>(),
    background: new BackgroundWork(),
  });
  // Expired tokens, codes and sessions go while the server runs; the sweep is stopped (and a
  // pass under way awaited) on close, before the store closes.
  const sweeper = startSweeper(
    // By real time while the clock is ahead of it: a test that moves the clock forward and
    // back finds its tokens as it left them, whenever the timer fires meanwhile.
    () => sweepExpired(store, app.platform.tables, Math.min(clock.now(), clock.real())),
    (err) => app.log.warn({ err }, 'expiry sweep failed'),
    options.sweepIntervalMs,
  );
  app.addHook('onClose', async () => {
    await app.platform.background.close();
    await sweeper.stop();
    if (!options.store) await store.close();
  });
  // Other instances on the same database may move the clock or import another key.
  const unfollow = followStoredSettings(store, app.platform);
  app.addHook('onClose', async () => unfollow());

  installErrorHandling(app, phases, surfaces);
  installInspector(app, phases, store, surfaces, options.inspector);
  installValidation(app);
  installJsonParsing(app);
  await app.register(formbody, { parser: parseForm });
  installGetForms(app);
  // Host names, control-plane guard, CORS, page headers, connection limits (docs/security.md).
  installSecurity(app, phases, options);

  // Only the upload routes (those that read a body of their own) parse multipart bodies:
  // the plugin adds hooks to every request of its scope, which the other routes need not pay.
  const routes = products.flatMap((p) => p.routes ?? []);
  registerRoutes(app, routes.filter((d) => !d.body));
  await app.register(async (uploads) => {
    await uploads.register(multipart, { limits: { fileSize: 20 * 1024 * 1024, files: 50, fields: 100 } });
    registerRoutes(uploads, routes.filter((d) => d.body));
  });
  for (const product of products) {
    if (product.pages) await app.register(onSurface('page', product.pages));
  }
  await app.register(onSurface('control', (scope) => controlRoutes(scope, products)), { prefix: CONTROL_PREFIX });
  await app.register(onSurface('page', (scope) => consoleRoutes(scope, products)), { prefix: CONSOLE_PREFIX });
  await app.register(onSurface('control', healthRoutes(Object.keys(storeSchema(products).migrations))));
  // Generated from the routes as registered (core/openapi.ts), once, on first request.
  let openApi: string | undefined;
  await app.register(
    onSurface('control', async (scope) => {
      scope.get(OPENAPI_PATH, {}, async (_req, reply) => {
        openApi ??= JSON.stringify(openApiDocument(registered(), (o) => o.config?.surface ?? 'kapi', VERSION));
        return reply.type('application/json').send(openApi);
      });
    }),
  );
  // Avatars are images an API answer links to: their errors are kapi's, as /dn/ images'.
  await app.register(avatarRoutes, { prefix: AVATAR_PREFIX });
  return app;
}
