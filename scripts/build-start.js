#!/usr/bin/env node
// The start bundle: dist/src/cli.js and everything it imports, bundled by esbuild into
// <out>/start/ (cli.js, plus chunks for what is imported only when needed: PostgreSQL,
// the TLS certificate maker, …). bin/kapibara.js runs it: one file to load instead of
// some thousand modules, which is most of a cold start (docs/benchmarks.md). Native
// addons stay outside. Run by `npm run build` and scripts/test.js, after tsc; the output
// directory is the first argument (default dist).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const out = process.argv[2] ?? process.env.KAPIBARA_OUT_DIR ?? 'dist';
rmSync(`${out}/start`, { recursive: true, force: true });
await build({
  entryPoints: [`${out}/src/cli.js`],
  outdir: `${out}/start`,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Native addons (and pg's optional one) load from node_modules as they are.
  external: ['better-sqlite3', 'sharp', 'pg-native'],
  // CommonJS dependencies call require(); an ES module bundle has none of its own.
  banner: { js: "import { createRequire as __kapibaraRequire } from 'node:module'; const require = __kapibaraRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
