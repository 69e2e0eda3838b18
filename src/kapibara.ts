import { openStore as openDatabase, type Store, type StoreOptions, type StoreSchema } from './db/index.js';
import { coreMigrations } from './db/migrations/index.js';
import type { TableSpec } from './db/tables.js';
import type { Product } from './core/product.js';
import { CORE_TABLES } from './store/state.js';
import { products as defaultProducts } from './products/index.js';

/**
 * Where the product list meets the store: the migrations and log tables a store needs, and
 * the tables the state format covers. `buildApp`, the CLI and the tests open stores here.
 */

export function storeSchema(products: readonly Product[] = defaultProducts): StoreSchema {
  const migrations = { ...coreMigrations };
  for (const p of products) {
    for (const [name, migration] of Object.entries(p.migrations ?? {})) {
      if (migrations[name]) throw new Error(`migration ${name} of ${p.name} is declared twice`);
      migrations[name] = migration;
    }
  }
  return { migrations, logTables: stateTables(products).filter((t) => t.log).map((t) => t.name) };
}

/** Every table of the state format, parents first: the core ones, then each product's. */
export function stateTables(products: readonly Product[] = defaultProducts): TableSpec[] {
  return [...CORE_TABLES, ...products.flatMap((p) => p.tables ?? [])];
}

/** Opens (and migrates) a store for these products. */
export function openStore(options: StoreOptions, products: readonly Product[] = defaultProducts): Promise<Store> {
  return openDatabase(options, storeSchema(products));
}
