import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import cors from '@fastify/cors';
import { openStore, type Store, type StoreOptions } from './db/index.js';
import { Clock, storedClockOffset } from './core/clock.js';
import { SigningKeys } from './core/keys.js';
import { installErrorHandling } from './core/http.js';
import { installValidation } from './core/validation.js';
import { installJsonParsing } from './core/json.js';
import { parseForm } from './core/form.js';
import type { PlatformConfig } from './core/platform.js';
import controlRoutes, { CONTROL_PREFIX } from './control/routes.js';
import consoleRoutes, { CONSOLE_PREFIX } from './console/routes.js';
import avatarRoutes, { AVATAR_PREFIX } from './console/avatars.js';
import loginRoutes from './products/login/routes.js';
import userRoutes from './products/user/routes.js';
import talkRoutes from './products/talk/routes.js';
import messageRoutes from './products/message/routes.js';
import storyRoutes from './products/story/routes.js';

export interface AppOptions extends StoreOptions, PlatformConfig {
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
  if (offset) clock.setOffset(storedClockOffset(offset.value) ?? 0);
  const keys = await SigningKeys.load(store.db);

  const app = Fastify({
    logger: options.logger ?? false,
    trustProxy: true,
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
  installJsonParsing(app);
  await app.register(formbody, { parser: parseForm });
  await app.register(multipart, { limits: { fileSize: 20 * 1024 * 1024, files: 50, fields: 100 } });
  // Browser apps call kapi from their own origin (the JavaScript SDK sends KA and
  // Authorization, so every call is preflighted): answer for any origin, as kapi does.
  await app.register(cors, { origin: true, credentials: true, maxAge: 3600 });

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
