import { randomBytes } from 'node:crypto';
import type { Platform } from '../../core/platform.js';
import { eitherSignal } from '../../core/background.js';
import type { App } from '../../core/model.js';
import { findWebhook, insertWebhookCall } from './store.js';

/**
 * The sharing success webhook (products notes §1.7): after a share whose request carried
 * serverCallbackArgs (lcba), the app's registered URL is called once per chat the message
 * went to, with the custom arguments plus CHAT_TYPE, HASH_CHAT_ID and TEMPLATE_ID. The URL
 * is the app's own setting (often its test server on loopback), so this is a dedicated call,
 * not the scrap fetcher: no redirect followed, 3 seconds, no retry. Every call is recorded.
 */

export const WEBHOOK_TIMEOUT_MS = 3000;

export interface WebhookDelivery {
  app: App;
  accountId: number;
  callbackArgs: Record<string, string>;
  chatType: string;
  hashChatId: string;
  templateId: number;
}

/** A Kakao-style resource id: 24 url-safe characters, new for every call. */
function resourceId(): string {
  return randomBytes(18).toString('base64url');
}

export async function callWebhook(platform: Platform, d: WebhookDelivery, closing: AbortSignal): Promise<void> {
  const hook = await findWebhook(platform.db, d.app.id);
  if (!hook) return;
  const params: Record<string, string> = { ...d.callbackArgs, CHAT_TYPE: d.chatType, HASH_CHAT_ID: d.hashChatId, TEMPLATE_ID: String(d.templateId) };
  const body = new URLSearchParams(params).toString();
  const id = resourceId();
  // A fragment is never sent (fetch drops it): a GET's parameters go in the query, before it.
  let url = hook.url.split('#')[0];
  if (hook.method === 'GET') url += (url.includes('?') ? '&' : '?') + body;
  const calledAt = platform.clock.now();
  const started = performance.now();
  let status: number | null = null;
  let error: string | null = null;
  const stop = eitherSignal(AbortSignal.timeout(WEBHOOK_TIMEOUT_MS), closing);
  try {
    const res = await fetch(url, {
      method: hook.method,
      redirect: 'manual',
      signal: stop.signal,
      headers: {
        authorization: `KakaoAK ${d.app.keys.admin}`,
        'x-kakao-resource-id': id,
        'user-agent': 'KakaoOpenAPI/1.0',
        ...(hook.method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' } : {}),
      },
      body: hook.method === 'POST' ? body : undefined,
    });
    status = res.status;
    await res.body?.cancel();
    if (status < 200 || status >= 300) error = status >= 300 && status < 400 ? `redirect not followed (HTTP ${status})` : `HTTP ${status}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    error =
      e.name === 'TimeoutError'
        ? `no answer within ${WEBHOOK_TIMEOUT_MS} ms`
        : closing.aborted
          ? 'not finished: Kapibara was stopped'
          : `request failed: ${e.cause?.code ?? e.cause?.message ?? e.message}`;
  } finally {
    stop.done();
  }
  await insertWebhookCall(platform.db, {
    app_id: d.app.id,
    account_id: d.accountId,
    url: hook.url,
    method: hook.method,
    resource_id: id,
    params: JSON.stringify(params),
    status,
    error,
    duration_ms: Math.round(performance.now() - started),
    called_at: calledAt,
  });
}
