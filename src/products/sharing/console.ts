import type { ConsoleSection } from '../../core/product.js';
import { html } from '../../core/html.js';
import { isoSeconds } from '../../core/clock.js';
import { listWebhookCalls } from './store.js';

/** The console's sharing section: the success webhook calls the person's shares caused. */

const CALLS_SHOWN = 20;

export const sharingSection: ConsoleSection = async ({ db }, person) => {
  const calls = await listWebhookCalls(db, { accountId: person.id }, CALLS_SHOWN);
  if (calls.length === 0) return html``;
  const apps = new Map((await db.selectFrom('apps').select(['id', 'name']).execute()).map((a) => [Number(a.id), a.name]));
  return html`<section><h2>Kakao Talk sharing webhook calls (${calls.length})</h2>
<table><tr><th>time</th><th>app</th><th>call</th><th>parameters</th><th>result</th><th>duration</th></tr>
${calls.map(
  (c) => html`<tr data-resource-id="${c.resource_id}"><td>${isoSeconds(Number(c.called_at))}</td><td>${apps.get(Number(c.app_id)) ?? String(c.app_id)}</td>
<td><code>${c.method} ${c.url}</code></td><td><code>${new URLSearchParams(JSON.parse(c.params) as Record<string, string>).toString()}</code></td>
<td>${c.status !== null ? `HTTP ${c.status}` : ''}${c.error ? html` <span class="muted">${c.error}</span>` : ''}</td><td>${Number(c.duration_ms)} ms</td></tr>`,
)}</table></section>`;
};
