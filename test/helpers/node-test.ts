import * as nodeTest from 'node:test';

/**
 * node:test for this suite: the same functions, but every hook has a time limit well under
 * the whole file's (scripts/test.js gives a file 10 minutes).
 *
 * Node's runner stops a file that runs past its limit and reports only the file: whatever
 * hung is never named. A suite's timeout (forEachStore gives each 5 minutes) names the test
 * that hung in it, but it does not cover the suite's hooks, so a `before` that never
 * settles (a browser that does not start, say) was reported as nothing at all. With a
 * limit of its own, the hook fails its suite by name and the file goes on.
 *
 * `it` and `describe` are node's own: a wrapper would make node report every test's
 * location as this file's.
 *
 * Test files import from here, never from node:test (test/architecture.test.ts checks).
 */

/** The longest hook (Chromium's start, a PostgreSQL database made) takes seconds. */
export const HOOK_TIMEOUT_MS = 3 * 60_000;

export const { describe, it } = nodeTest;

type HookFn = Parameters<typeof nodeTest.before>[0];
type HookOptions = nodeTest.HookOptions;

function bounded(hook: (fn?: HookFn, options?: HookOptions) => void) {
  return (fn: HookFn, options: HookOptions = {}): void => hook(fn, { timeout: HOOK_TIMEOUT_MS, ...options });
}

export const before = bounded(nodeTest.before);
export const after = bounded(nodeTest.after);
export const beforeEach = bounded(nodeTest.beforeEach);
export const afterEach = bounded(nodeTest.afterEach);
