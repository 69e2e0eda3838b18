#!/usr/bin/env node
// `kapibara`: the start bundle (scripts/build-start.js) that `npm run build` makes.
import { main } from '../dist/start/cli.js';

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(err?.exitCode ?? 1);
});
