import { networkInterfaces } from 'node:os';
import { sql } from 'kysely';
import { isoSeconds } from '../../core/clock.js';
import { invalidParam } from '../../core/errors.js';
import type { Platform } from '../../core/platform.js';

/**
 * The System APIs (products notes §7): Kakao's IP list answered with Kapibara's own
 * addresses, and the status page's health answered with Kapibara's own health.
 */

/** The Kakao hosts Kapibara answers for, as the IP list's outbound domains (products notes §7.1). */
export const KAKAO_DOMAINS = ['kauth.kakao.com', 'kapi.kakao.com', 'accounts.kakao.com', 'auth.kakao.com', 'dapi.kakao.com', 'apps.kakao.com', 'talk-apps.kakao.com'];
const INBOUND_TYPES = ['callback', 'scrap'] as const;

/** `::ffff:127.0.0.1` is the IPv4 address a dual-stack socket reports. */
export function plainAddress(address: string | undefined): string {
  if (!address) return '127.0.0.1';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The addresses Kapibara's own requests (webhooks, scraping) may leave from: every interface but link-local IPv6. */
export function machineAddresses(): string[] {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' || !a.address.toLowerCase().startsWith('fe80:')) out.add(a.address);
  }
  return [...out];
}

const firstSeen = new WeakMap<Platform, number>();

/**
 * GET /v1/system/ips: `inbound` (where Kakao's calls to a service come from: Kapibara's
 * machine, per type) and `outbound` (where a service reaches Kakao: the address this request
 * came in on, per Kakao domain); `updatedDate` is the day this Kapibara first answered.
 */
export function ipList(platform: Platform, ruleType: string | undefined, listenerAddress: string) {
  if (ruleType !== undefined && ruleType !== 'inbound' && ruleType !== 'outbound') throw invalidParam(`invalid rule_type: ${ruleType} (inbound or outbound).`);
  if (!firstSeen.has(platform)) firstSeen.set(platform, platform.clock.now());
  const addresses = machineAddresses();
  return {
    ...(ruleType !== 'outbound' ? { inbound: INBOUND_TYPES.flatMap((type) => addresses.map((ip) => ({ type, ip }))) } : {}),
    ...(ruleType !== 'inbound' ? { outbound: KAKAO_DOMAINS.map((domain) => ({ domain, ip: listenerAddress })) } : {}),
    updatedDate: new Date(firstSeen.get(platform)!).toISOString().slice(0, 10),
  };
}

export type HealthStatus = 'NORMAL' | 'OUTAGE';

interface Incident {
  status: HealthStatus;
  description: string;
  startedAt: number;
  endedAt: number | null;
}

interface HealthLog {
  since: number;
  incidents: Incident[];
}

const HEALTH_TIMEOUT_MS = 2000;
const INCIDENTS_KEPT = 100;
const logs = new WeakMap<Platform['store'], HealthLog>();

function logOf(platform: Platform): HealthLog {
  let log = logs.get(platform.store);
  if (!log) logs.set(platform.store, (log = { since: platform.clock.now(), incidents: [] }));
  return log;
}

/** Whether the store answers a query within the timeout; every check is recorded in this instance's history. */
async function check(platform: Platform): Promise<{ status: HealthStatus; description: string; at: number }> {
  let description = 'All Kakao APIs are operating normally.';
  let status: HealthStatus = 'NORMAL';
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sql`select 1`.execute(platform.db),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS))),
    ]);
  } catch (err) {
    status = 'OUTAGE';
    description = `The store is unreachable: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
  const at = platform.clock.now();
  const log = logOf(platform);
  const open = log.incidents.find((i) => i.endedAt === null);
  if (open && status === 'NORMAL') open.endedAt = at;
  if (!open && status !== 'NORMAL') {
    log.incidents.unshift({ status, description, startedAt: at, endedAt: null });
    log.incidents.length = Math.min(log.incidents.length, INCIDENTS_KEPT);
  }
  return { status, description, at };
}

/** api-status.kakao.com/api/health/current */
export async function currentHealth(platform: Platform) {
  const now = await check(platform);
  return {
    status: now.status,
    description: now.description,
    checked_at: isoSeconds(now.at),
    services: KAKAO_DOMAINS.map((name) => ({ name, status: now.status })),
  };
}

/** api-status.kakao.com/api/health/history: this instance's incidents, newest first. */
export async function healthHistory(platform: Platform) {
  const now = await check(platform);
  const log = logOf(platform);
  return {
    status: now.status,
    since: isoSeconds(log.since),
    incidents: log.incidents.map((i) => ({
      status: i.status,
      description: i.description,
      started_at: isoSeconds(i.startedAt),
      ...(i.endedAt === null ? {} : { ended_at: isoSeconds(i.endedAt) }),
    })),
  };
}
