import { createRequire } from 'node:module';
import type { Sharp, SharpOptions } from 'sharp';

/**
 * Heavy libraries loaded the first time they are needed, not when the server starts: a
 * server (an instance per test file, in CI) answers its first request sooner. Each is
 * imported once per process.
 */

type SharpFactory = (input?: Buffer, options?: SharpOptions) => Sharp;
let sharp: Promise<SharpFactory> | undefined;

/**
 * sharp (image decoding and rendering: uploads, avatars). It is a CommonJS package, and
 * required, not imported: the start bundle is a script compiled from a code cache, where
 * V8 offers no import() (src/start-bundle.ts).
 */
export function loadSharp(): Promise<SharpFactory> {
  sharp ??= Promise.resolve().then(() => createRequire(import.meta.url)('sharp') as SharpFactory);
  return sharp;
}
