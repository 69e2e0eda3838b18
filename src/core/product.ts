import type { FastifyInstance } from 'fastify';
import type { Migration } from 'kysely';
import type { TableSpec } from '../db/tables.js';
import type { Account } from './model.js';
import type { Platform } from './platform.js';
import type { RawHtml } from './html.js';
import type { RouteDeclaration } from './route.js';
import type { ScopeInfo } from './scopes.js';
import type { SurfacePrefix } from './http.js';

/** What a product adds to a person's console page: what they would see in Kakao Talk or Story. */
export type ConsoleSection = (platform: Platform, person: Account, origin: string) => Promise<RawHtml>;

/** A product's own console pages: `plugin` registers them (paths relative to the console prefix). */
export interface ConsolePages {
  links: readonly { path: string; title: string }[];
  plugin: Plugin;
}

/** Fastify routes registered as they are (pages a browser opens, control-plane routes). */
export type Plugin = (app: FastifyInstance) => Promise<void>;

/**
 * A product module: everything one product brings, declared in one place
 * (`src/products/<p>/index.ts`) and picked up by the central files, which loop over the
 * list in `src/products/index.ts`. Adding a product is one folder and one line there.
 */
export interface Product {
  name: string;
  /** Emulated Kakao API routes (kapi / kauth), declared with `route()`. */
  routes?: readonly RouteDeclaration<any, any, any>[];
  /** Pages a browser opens (surface `page`): their errors are HTML pages or redirects. */
  pages?: Plugin;
  /** Routes under the control plane (`/_kapibara/v1`, surface `control`). */
  control?: Plugin;
  /** Migrations, named in the one global order (`NNN_<product>_<what>`). */
  migrations?: Record<string, Migration>;
  /** Tables in state export/import/reset order (parents first); `log` marks append-only logs. */
  tables?: readonly TableSpec[];
  /** What this product shows on a person's console page. */
  console?: ConsoleSection;
  /** Console pages of its own (under the console prefix, operator token checked) and the header links to them. */
  consolePages?: ConsolePages;
  /** Consent items (scopes) this product defines, in `/v2/user/scopes` order. */
  consentItems?: readonly ScopeInfo[];
  /** Path prefixes of this product's surfaces, for requests no route matches. */
  surfaces?: readonly SurfacePrefix[];
}
