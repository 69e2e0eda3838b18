/**
 * The platform clock. Everything time-dependent (token expiry, quotas, timestamps) reads
 * it, so a test can move time forward through the control plane instead of waiting.
 */
export class Clock {
  private offsetMs = 0;
  /** Moves with every change of the offset (a reader of the stored offset can tell it is late). */
  version = 0;

  constructor(private readonly source: () => number = Date.now) {}

  /** Stays at the end of year 9999 once real time would carry it past (CLOCK_MAX_MS). */
  now(): number {
    const now = this.source() + this.offsetMs;
    return now > CLOCK_MAX_MS ? CLOCK_MAX_MS : now;
  }

  /** The time of the clock's source (real time, in production), without the offset. */
  real(): number {
    return this.source();
  }

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  get offset(): number {
    return this.offsetMs;
  }

  setOffset(ms: number): void {
    this.offsetMs = ms;
    this.version++;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
    this.version++;
  }
}

/** The setting that holds the clock's offset (ms) in the store: every instance on it follows it. */
export const CLOCK_OFFSET_SETTING = 'clock_offset_ms';

/** ISO-8601 UTC with whole seconds, as every Kakao timestamp is (`2019-07-05T05:29:15Z`). */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The range the platform clock may be set to: 1970-01-01 to the end of year 9999, so that
 * every timestamp derived from it (expiries months later included) can be formatted.
 */
export const CLOCK_MIN_MS = 0;
export const CLOCK_MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Why a date-time `text` given as `field` is no time of the clock's: RFC 3339 allows second 60
 * (a leap second), which no Date can hold, and that is said.
 */
export function notAClockTime(field: string, text: string): string {
  const leap = /:60(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(text) ? ' (second 60, a leap second, has no time of its own)' : '';
  return `${field}: "${text}" is not a time the clock can show${leap}.`;
}

/** A change of the clock that cannot be made, or a time it cannot show (the control plane answers it 400). */
export class ClockChangeError extends Error {}

/** The clock's range in words, as every refusal names it. */
export const CLOCK_RANGE = 'between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z';

/**
 * A date-time `text` given as `field` read as a time of the clock's, as every control-plane time
 * is read (`POST /clock`'s `now`, a shipping address's `updated_at`): whole milliseconds (a finer
 * fraction would be cut off unseen), a time a Date can hold (not second 60), within the range.
 */
export function clockTime(field: string, text: string): number {
  if (/\.\d{3}\d*[1-9]/.test(text)) throw new ClockChangeError(`${field}: "${text}" is finer than the clock's millisecond: give at most three decimals.`);
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new ClockChangeError(notAClockTime(field, text));
  if (!(at >= CLOCK_MIN_MS && at <= CLOCK_MAX_MS)) throw new ClockChangeError(`${field}: "${text}" is not ${CLOCK_RANGE}.`);
  return at;
}

export interface ClockChange {
  offset_ms?: number;
  now?: string;
  advance_seconds?: number;
}

/**
 * The offset a change gives (set the offset or the time, then advance, as given), checked:
 * one of `offset_ms` and `now`, a `now` that is a time, whole milliseconds, and the clock
 * within 1970–9999.
 */
export function changedOffset(clock: Clock, change: ClockChange): number {
  if (change.offset_ms !== undefined && change.now !== undefined) {
    throw new ClockChangeError('give offset_ms or now, not both: each sets the clock.');
  }
  if (change.offset_ms !== undefined && !Number.isInteger(change.offset_ms)) {
    throw new ClockChangeError(`offset_ms must be whole milliseconds (${change.offset_ms} is not).`);
  }
  if (change.advance_seconds !== undefined && !wholeMilliseconds(change.advance_seconds)) {
    throw new ClockChangeError(`advance_seconds must be whole milliseconds, at most three decimals (${change.advance_seconds} is not).`);
  }
  const real = clock.real();
  // What the clock shows now, held at CLOCK_MAX_MS when real time carried it past: moved from
  // there. From the same reading of real time (clock.now() reads it again, maybe a tick later).
  let offset = Math.min(real + clock.offset, CLOCK_MAX_MS) - real;
  if (change.offset_ms !== undefined) offset = change.offset_ms;
  if (change.now !== undefined) offset = clockTime('now', change.now) - real;
  if (change.advance_seconds !== undefined) offset += Math.round(change.advance_seconds * 1000);
  const at = real + offset;
  if (!Number.isFinite(at) || at < CLOCK_MIN_MS || at > CLOCK_MAX_MS) {
    throw new ClockChangeError(`the clock must stay ${CLOCK_RANGE}`);
  }
  return offset;
}

/** Whether seconds are a whole number of milliseconds (1.001 is, 0.0001 is not; within float error). */
function wholeMilliseconds(seconds: number): boolean {
  const ms = seconds * 1000;
  return Math.abs(ms - Math.round(ms)) < 1e-6 * Math.max(1, Math.abs(ms));
}

/** The largest time `Date` can represent (and so format): ±100,000,000 days from the epoch. */
const DATE_LIMIT_MS = 8.64e15;

/**
 * A stored offset (settings `clock_offset_ms`) when it is a number that keeps the clock
 * formattable (`Date` can represent it, with a year of margin for expiries); otherwise
 * undefined, and the clock runs without an offset.
 */
export function storedClockOffset(text: string | undefined, real = Date.now()): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const offset = Math.round(Number(text));
  const margin = 366 * 24 * 3600 * 1000;
  return Number.isSafeInteger(offset) && Math.abs(real + offset) + margin <= DATE_LIMIT_MS ? offset : undefined;
}
