import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { freePort } from './core/free-port.js';

/**
 * Runs the start bundle (scripts/build-start.js): the CLI and everything it imports as one
 * CommonJS file, compiled with the V8 code cache that the build wrote beside it. A cold
 * start then deserializes compiled code instead of parsing 3 MB of JavaScript (Node 20 has
 * no compile cache of its own for modules). The cache holds for the Node version and V8
 * flags it was made with; with any other, or without one, V8 rejects it and the bundle is
 * compiled as any script is (`KAPIBARA_DEBUG_START=1` prints which).
 */
export const START_BUNDLE = fileURLToPath(new URL('../start/cli.cjs', import.meta.url));
export const CODE_CACHE = `${START_BUNDLE}.cache`;

type Cli = { main(argv: string[]): Promise<void> };

function compile(cachedData?: Buffer): { script: vm.Script; cli: Cli } {
  // The build checks that the bundle is ASCII, so latin1 is its exact text, and decoding it is a copy.
  const source = readFileSync(START_BUNDLE).toString('latin1');
  const script = new vm.Script(Module.wrap(source), {
    filename: START_BUNDLE,
    // No importModuleDynamically: code from a cache loses it (Node 20), so the bundle
    // requires what it leaves outside, and the build refuses an import() of it.
    cachedData,
  });
  const module = { exports: {} as Cli };
  script.runInThisContext()(module.exports, createRequire(START_BUNDLE), module, START_BUNDLE, dirname(START_BUNDLE));
  return { script, cli: module.exports };
}

/** The CLI of the start bundle, compiled from its code cache when V8 accepts it. */
export function loadStartBundle(): Cli {
  const begun = performance.now();
  const cachedData = existsSync(CODE_CACHE) ? readFileSync(CODE_CACHE) : undefined;
  const { script, cli } = compile(cachedData);
  if (process.env.KAPIBARA_DEBUG_START === '1') {
    const cache = cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'rejected' : 'accepted';
    process.stderr.write(`kapibara: code cache ${cache}; loader began at ${begun.toFixed(0)} ms, bundle ran at ${performance.now().toFixed(0)} ms\n`);
  }
  return cli;
}

/**
 * Writes the code cache (run by scripts/build-start.js in a process of its own): compiles
 * the bundle, starts a server on a fresh data folder and answers one request, so that what
 * a start runs is compiled, and stores V8's cache of it.
 */
export async function writeCodeCache(): Promise<void> {
  const { script, cli } = compile();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kapibara-code-cache-'));
  try {
    await cli.main(['start', '--port', String(port), '--host', '127.0.0.1', '--data', dir]);
    const res = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
    if (!res.ok) throw new Error(`the warm-up request answered ${res.status}`);
    await res.arrayBuffer();
    writeFileSync(CODE_CACHE, script.createCachedData());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
