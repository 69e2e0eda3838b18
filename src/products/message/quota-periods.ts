/**
 * The periods Talk message quotas count (docs/messages.md): a day and a month of Korea
 * Standard Time (UTC+9), as Kakao's do. A counter's key ends with its period, `YYYYMMDD` or
 * (`sm:`, the sender's month) `YYYYMM`; a counter is read only during its period, so once that
 * has ended it can go (with the expiry sweep's day of grace, store/expiry.ts).
 */

const KST_MS = 9 * 3600_000;

export interface QuotaPeriods {
  day: string;
  month: string;
  /** When the day and the month end (ms): their counters' expiry. */
  dayEnds: number;
  monthEnds: number;
}

export function kstPeriods(now: number): QuotaPeriods {
  const kst = new Date(now + KST_MS);
  const [y, m, d] = [kst.getUTCFullYear(), kst.getUTCMonth(), kst.getUTCDate()];
  const iso = kst.toISOString();
  return {
    day: iso.slice(0, 10).replace(/-/g, ''),
    month: iso.slice(0, 7).replace(/-/g, ''),
    dayEnds: Date.UTC(y, m, d + 1) - KST_MS,
    monthEnds: Date.UTC(y, m + 1, 1) - KST_MS,
  };
}

const COUNTER_KEY = /^(s|sm|r|p):(?:\d+:)+(\d{4})(\d{2})(\d{2})?$/;

/** When the period a counter key names ends; undefined when the key names none. */
export function counterPeriodEnd(key: string): number | undefined {
  const m = COUNTER_KEY.exec(key);
  if (!m) return undefined;
  const monthly = m[1] === 'sm';
  if (monthly !== (m[4] === undefined)) return undefined;
  const [y, mon, d] = [Number(m[2]), Number(m[3]) - 1, monthly ? 1 : Number(m[4])];
  const start = new Date(Date.UTC(y, mon, d));
  // A date that does not exist (month 13, 30 February) is no period.
  if (start.getUTCFullYear() !== y || start.getUTCMonth() !== mon || start.getUTCDate() !== d) return undefined;
  return (monthly ? Date.UTC(y, mon + 1, 1) : Date.UTC(y, mon, d + 1)) - KST_MS;
}
