import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { CLOCK_MAX_MS, Clock, changedOffset } from '../src/core/clock.js';

/**
 * Moving the platform clock changes its offset by exactly what was asked, even when real time
 * ticks while the change is worked out (a CI run once saw an advance of 3600 s move another
 * instance's offset by 3,600,001 ms).
 */
it('an advance moves the offset by exactly the seconds asked, though real time ticks meanwhile', () => {
  let real = 1_700_000_000_000;
  const clock = new Clock(() => real++);
  clock.setOffset(86_400_000);
  assert.equal(changedOffset(clock, { advance_seconds: 3600 }), 86_400_000 + 3_600_000);
  assert.equal(changedOffset(clock, { advance_seconds: -60 }), 86_400_000 - 60_000);
  assert.equal(changedOffset(clock, {}), 86_400_000);
});

it('past the end of 9999 an advance moves from where the clock is held', () => {
  const real = CLOCK_MAX_MS - 1000;
  const clock = new Clock(() => real);
  clock.setOffset(5000);
  // Shown: CLOCK_MAX_MS (held); back 60 s from there.
  assert.equal(real + changedOffset(clock, { advance_seconds: -60 }), CLOCK_MAX_MS - 60_000);
});
