import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import { openStore, type Store, type StoreOptions } from './db/index.js';
import { Clock } from './core/clock.js';
import { SigningKeys } from './core/keys.js';
import { installErrorHandling } from './core/http.js';
import { installValidation } from './core/validation.js';
import { parseForm } from './core/form.js';
import { installSecurity, serverLimitOptions, trustedProxies, type SecurityOptions } from './core/security.js';
import type { PlatformConfig } from './core/platform.js';
import controlRoutes, { CONTROL_PREFIX } from './control/routes.js';
import consoleRoutes, { CONSOLE_PREFIX } from './console/routes.js';
import avatarRoutes, { AVATAR_PREFIX } from './console/avatars.js';
import loginRoutes from './products/login/routes.js';
import userRoutes from './products/user/routes.js';
import talkRoutes from './products/talk/routes.js';
import messageRoutes from './products/message/routes.js';
import storyRoutes from './products/story/routes.js';

export interface AppOptions extends StoreOptions, PlatformConfig, SecurityOptions {
  /** An already-open store (tests share one per file); otherwise one is opened. */
  store?: Store;
  clock?: Clock;
  logger?: FastifyServerOptions['logger'];
}

/** The one factory used by the server, the CLI and the tests. */
export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const store = options.store ?? (await openStore(options));
  const clock = options.clock ?? new Clock();
  const offset = await store.db.selectFrom('settings').select('value').where('key', '=', 'clock_offset_ms').executeTakeFirst();
  if (offset) clock.setOffset(Number(offset.value));
  const keys = await SigningKeys.load(store.db);

  const app = Fastify({
    logger: options.logger ?? false,
    trustProxy: trustedProxies(options),
    ...serverLimitOptions(options),
    // Kakao ids and keys are case-sensitive but paths are matched as documented.
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: 12 * 1024 * 1024,
  });
  app.decorate('platform', {
    db: store.db,
    dialect: store.dialect,
    clock,
    keys,
    config: { publicUrl: options.publicUrl, operatorToken: options.operatorToken },
  });
  if (!options.store) app.addHook('onClose', async () => store.close());

  installErrorHandling(app);
  installValidation(app);
  await app.register(formbody, { parser: parseForm });
  await app.register(multipart, { limits: { fileSize: 20 * 1024 * 1024, files: 50, fields: 100 } });
  // Host names, control-plane guard, CORS, page headers, connection limits (docs/security.md).
  await installSecurity(app, options);

  await app.register(loginRoutes);
  await app.register(userRoutes);
  await app.register(talkRoutes);
  await app.register(messageRoutes);
  await app.register(storyRoutes);
  await app.register(controlRoutes, { prefix: CONTROL_PREFIX });
  await app.register(consoleRoutes, { prefix: CONSOLE_PREFIX });
  await app.register(avatarRoutes, { prefix: AVATAR_PREFIX });
  return app;
}
