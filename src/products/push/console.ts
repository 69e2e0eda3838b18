import type { FastifyInstance } from 'fastify';
import { html } from '../../core/html.js';
import { HTML_TYPE } from '../../core/http.js';
import { consolePage } from '../../console/routes.js';
import { listApps } from '../../store/apps.js';
import * as store from './store.js';
import { deliveryJson, tokenJson } from './control.js';

/** The console's push page: every app's devices, and each device's notifications as a phone would show them. */

export const PUSH_PATH = '/push';
const SHOWN = 20;

export async function pushConsolePages(app: FastifyInstance): Promise<void> {
  app.get(PUSH_PATH, async (_req, reply) => {
    const { db, clock } = app.platform;
    const now = clock.now();
    const sections = [];
    for (const a of await listApps(db)) {
      const devices = await store.allTokens(db, a.id);
      if (devices.length === 0) continue;
      const cards = await Promise.all(
        devices.map(async (d) => {
          const t = tokenJson(d, now);
          const inbox = (await store.deliveries(db, a.id, { uuid: d.uuid, deviceId: d.device_id }, SHOWN)).map(deliveryJson);
          return html`<div class="card" data-device="${d.device_id}"><strong>uuid ${t.uuid} &middot; ${t.device_id}</strong> <span class="pill">${t.push_type}</span>${t.expired ? html` <span class="pill">expired</span>` : ''}
<div class="muted">registered ${t.created_at}${t.expires_at ? html` &middot; expires ${t.expires_at}` : ' · no expiry'}</div>
${inbox.length === 0 ? html`<p class="muted">No notifications.</p>` : ''}
${inbox.map(
  (n) => html`<div class="bubble" data-push="${n.id}"><div class="muted">${a.name} &middot; ${n.sent_at}${n.notification.badge !== undefined ? html` &middot; badge ${n.notification.badge}` : ''}${n.notification.sound ? html` &middot; &#x1F514; ${n.notification.sound}` : ''}${n.truncated ? ' · cut to 4 KB' : ''}${n.notification.silent ? ' · silent' : ''}</div>
${n.notification.title ? html`<strong>${n.notification.title}</strong><br>` : ''}${n.notification.body ?? ''}
${Object.entries(n.notification.custom as Record<string, unknown>).map(([k, v]) => html`<span class="pill">${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}</span>`)}</div>`,
)}</div>`;
        }),
      );
      sections.push(html`<section><h2>${a.name} <span class="muted">app ${a.id}</span></h2>${cards}</section>`);
    }
    const body = html`<h1>Push notifications</h1>${sections.length ? sections : html`<section><p class="muted">No device registered (POST /v2/push/register).</p></section>`}`;
    return reply.type(HTML_TYPE).send(consolePage('Push notifications', body));
  });
}
