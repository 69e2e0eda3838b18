#!/usr/bin/env node
// `kapibara`: the start bundle (scripts/build-start.js) that `npm run build` makes, compiled
// from its code cache (src/start-bundle.ts).
import { loadStartBundle } from '../dist/src/start-bundle.js';

loadStartBundle()
  .main(process.argv.slice(2))
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(err?.exitCode ?? 1);
  });
