import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The installed package's addon, looked for once per process. */
let installed: string | object | undefined;

/**
 * better-sqlite3's compiled addon, for its `nativeBinding` option. Where its install puts
 * it (build/Release, built or downloaded), it is loaded from there by path; otherwise as
 * better-sqlite3 itself would, through its `bindings` dependency searching the package's
 * folder. Said explicitly because the start bundle holds better-sqlite3's JavaScript
 * (scripts/build-start.js), where `bindings` would search from the bundle's folder, and
 * because the search costs a start 4 ms. `packageDir` defaults to the installed package.
 */
export function sqliteAddon(packageDir?: string): string | object {
  if (packageDir === undefined) return (installed ??= sqliteAddon(dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'))));
  const built = join(packageDir, 'build', 'Release', 'better_sqlite3.node');
  if (existsSync(built)) return built;
  const bindings = createRequire(join(packageDir, 'package.json'))('bindings') as (o: { bindings: string; module_root: string }) => object;
  return bindings({ bindings: 'better_sqlite3.node', module_root: packageDir });
}
