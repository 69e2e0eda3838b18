#!/usr/bin/env node
// The start bundle: dist/src/cli.js and everything it imports, bundled by esbuild into one
// CommonJS file, <out>/start/cli.cjs, and the V8 code cache of it, <out>/start/cli.cjs.cache.
// bin/kapibara.js runs it through <out>/src/start-bundle.js: one file to load instead of
// some thousand modules, compiled code deserialized instead of 3 MB of source parsed
// (docs/benchmarks.md, cold start). Native addons (their JavaScript aside) and sharp stay
// outside. Run by `npm run build` and scripts/test.js, after tsc; the output directory is
// the first argument (default dist).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

// Node's HTTP/2, HTTPS and DNS modules cost a start a tenth of what it spends running the
// bundle, for servers that never use them: Fastify requires them when it is loaded, for an
// HTTP/2 or HTTPS server or a listen on a host name. In the bundle each is a stand-in that
// requires the real module on first use of any of its properties.
const LAZY_BUILTINS = /^(node:)?(http2|https|dns)$/;
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: LAZY_BUILTINS }, (args) => (args.namespace === 'lazy-builtin' ? undefined : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      loader: 'js',
      contents: `let real; const load = () => (real ??= require('node:${args.path}'));
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => { const d = Reflect.getOwnPropertyDescriptor(load(), key); return d && { ...d, configurable: true }; },
});`,
    }));
  },
};

const out = process.argv[2] ?? process.env.KAPIBARA_OUT_DIR ?? 'dist';
rmSync(`${out}/start`, { recursive: true, force: true });
const result = await build({
  entryPoints: [`${out}/src/cli.js`],
  outfile: `${out}/start/cli.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // sharp and pg's optional native client load from node_modules as they are. better-sqlite3's
  // JavaScript is in the bundle (12 files fewer to find and compile: 9 ms of a start); its
  // addon is loaded by path (src/db/sqlite-addon.ts). selfsigned is required from
  // node_modules on the first HTTPS start (src/core/tls.ts).
  external: ['sharp', 'pg-native', 'selfsigned'],
  plugins: [lazyBuiltins],
  // Modules find Kapibara's own files from their URL (src/paths.ts); in the bundle that is the bundle's.
  define: { 'import.meta.url': '__kapibaraBundleUrl' },
  banner: { js: "var __kapibaraBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Comments and indentation are half the text V8 reads; names are kept for stack traces.
  minifyWhitespace: true,
  sourcemap: true,
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});

// The bundle runs as a script from a code cache, where import() fails (src/start-bundle.ts):
// what stays outside it must be required.
for (const output of Object.values(result.metafile.outputs)) {
  for (const i of output.imports) {
    if (i.external && i.kind === 'dynamic-import') {
      console.error(`build-start: import("${i.path}") of a package outside the bundle would fail in it; require it (createRequire), as src/core/lazy.ts does for sharp`);
      process.exit(1);
    }
  }
}

// The loader decodes the bundle as latin1, which is exact only for ASCII; esbuild escapes
// every other character except in template literals' raw text, so say where one is.
const text = readFileSync(`${out}/start/cli.cjs`);
const at = text.findIndex((b) => b > 0x7f);
if (at >= 0) {
  const line = text.subarray(0, at).toString('latin1').split('\n').length;
  console.error(`build-start: ${out}/start/cli.cjs has a character outside ASCII at line ${line}: "${text.subarray(Math.max(0, at - 40), at + 20).toString('utf8')}"; write it as an escape or an HTML entity in the source`);
  process.exit(1);
}

// The code cache, written by a start of the bundle itself (src/start-bundle.ts) on a
// SQLite folder of its own: none of the settings a real start reads from the environment
// (DATABASE_URL above all) reach it. Without a cache Kapibara still runs, only starts slower.
const loader = pathToFileURL(`${out}/src/start-bundle.js`).href;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'PORT', 'HOST', 'LOG_LEVEL'].includes(k) && !k.startsWith('KAPIBARA_')));
const cache = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(loader)}); await m.writeCodeCache(); process.exit(0);`], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env,
  timeout: 120_000,
});
if (cache.status !== 0) {
  console.warn(`build-start: no code cache written (${cache.error?.message ?? `exit ${cache.status}`}); kapibara start will compile the bundle each time`);
}
