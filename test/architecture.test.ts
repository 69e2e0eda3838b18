import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The layering of docs/design.md, checked on the TypeScript sources: core/ and db/ import no
 * repository and no product; a product imports another product only through that
 * product's module (its index.ts).
 */

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '(\.[^']+)'/g)].map((m) => relative(SRC, normalize(join(dirname(file), m[1]))));
}

it('core/ and db/ import no repository and no product; products meet only through their modules', () => {
  const wrong: string[] = [];
  for (const file of sources(SRC)) {
    const from = relative(SRC, file).split('/');
    for (const target of imports(file)) {
      const to = target.split('/');
      if ((from[0] === 'core' || from[0] === 'db') && (to[0] === 'store' || to[0] === 'products')) wrong.push(`${from.join('/')} → ${target}`);
      if (from[0] === 'products' && to[0] === 'products' && from.length > 2 && to.length > 2 && from[1] !== to[1] && to[2] !== 'index.js') {
        wrong.push(`${from.join('/')} → ${target}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

it('test files take node:test through helpers/node-test.ts, so every hook has a time limit under the file’s', () => {
  const TEST = join(SRC, '..', 'test');
  const direct = sources(TEST)
    .filter((file) => relative(TEST, file) !== join('helpers', 'node-test.ts'))
    .filter((file) => /^import [^;]* from 'node:test';/m.test(readFileSync(file, 'utf8')))
    .map((file) => relative(TEST, file));
  assert.deepEqual(direct, []);
});
