#!/usr/bin/env node
// Kapibara's browser SDK (window.Kakao, src/sdk/): typechecked with its own tsconfig (DOM
// types, kept out of the server's build) and bundled by esbuild into <out>/sdk/kakao.js and
// kakao.min.js, which src/products/sdk serves at /sdk/js/. Run by `npm run build` and by
// scripts/test.js; the output directory is the first argument (default dist).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const out = process.argv[2] ?? process.env.KAPIBARA_OUT_DIR ?? 'dist';
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'src/sdk/tsconfig.json'], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('The browser SDK (src/sdk) has type errors (above).');
  process.exit(1);
}
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const common = {
  entryPoints: ['src/sdk/index.ts'],
  bundle: true,
  format: 'iife',
  target: ['es2017'],
  platform: 'browser',
  define: { __KAPIBARA_VERSION__: JSON.stringify(version) },
  legalComments: 'none',
  logLevel: 'warning',
};
await build({ ...common, outfile: `${out}/sdk/kakao.js` });
await build({ ...common, outfile: `${out}/sdk/kakao.min.js`, minify: true });
