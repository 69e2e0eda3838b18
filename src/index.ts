/**
 * Kapibara as a library: the server factory, and the test helpers of `kapibara/testing`.
 * docs/testing.md.
 */
export { buildApp, type AppOptions } from './app.js';
export * from './testing.js';
