import type { Sharp, SharpOptions } from 'sharp';

/**
 * Heavy libraries loaded the first time they are needed, not when the server starts: a
 * server (an instance per test file, in CI) answers its first request sooner. Each is
 * imported once per process.
 */

type SharpFactory = (input?: Buffer, options?: SharpOptions) => Sharp;
let sharp: Promise<SharpFactory> | undefined;

/** sharp (image decoding and rendering: uploads, avatars). */
export function loadSharp(): Promise<SharpFactory> {
  sharp ??= import('sharp').then((m) => m.default as unknown as SharpFactory);
  return sharp;
}
