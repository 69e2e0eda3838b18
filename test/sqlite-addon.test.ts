import { describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { sqliteAddon } from '../src/db/sqlite-addon.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const installed = dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'));

function works(nativeBinding: string | object): void {
  const db = new Database(':memory:', { nativeBinding: nativeBinding as string });
  try {
    assert.deepEqual(db.prepare('select 40 + 2 as n').get(), { n: 42 });
  } finally {
    db.close();
  }
}

describe('better-sqlite3 addon, given to it by Kapibara (src/db/sqlite-addon.ts)', () => {
  it('is the installed build/Release addon, by path', () => {
    const addon = sqliteAddon();
    assert.equal(addon, join(installed, 'build', 'Release', 'better_sqlite3.node'));
    works(addon);
  });

  it('elsewhere in the package, is found as better-sqlite3 would find it', () => {
    // A package folder whose addon is not in build/Release (one of the places `bindings` looks).
    const dir = mkdtempSync(join(root, 'dist', 'sqlite-addon-'));
    try {
      writeFileSync(join(dir, 'package.json'), '{"name":"better-sqlite3"}');
      mkdirSync(join(dir, 'build'));
      copyFileSync(join(installed, 'build', 'Release', 'better_sqlite3.node'), join(dir, 'build', 'better_sqlite3.node'));
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
      const addon = sqliteAddon(dir);
      assert.equal(typeof addon, 'object');
      works(addon);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
