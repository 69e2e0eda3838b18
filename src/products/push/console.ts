import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { html } from '../../core/html.js';
import { HTML_TYPE } from '../../core/http.js';
import { OVERVIEW_PAGE, consolePage } from '../../console/routes.js';
import { listPage, pageIsAfter } from '../../console/paging.js';
import { findAppsByIds } from '../../store/apps.js';
import * as store from './store.js';
import { deliveryJson, tokenJson } from './control.js';

/**
 * The console's push page: the apps' devices, 50 at a time (by app, then as the control plane
 * lists an app's), each with its notifications as a phone would show them.
 */

export const PUSH_PATH = '/push';
const SHOWN = 20;

/** A page after a device: its app, uuid, registration time and device id, all named by the "Next" link (a device deregistered meanwhile still has its place). */
const CURSOR = ['after_app', 'after_uuid', 'after_time', 'after_device'] as const;
const Position = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const PushQuery = Type.Object({
  after_app: Type.Optional(Position),
  after_uuid: Type.Optional(Type.String({ maxLength: 1000 })),
  after_time: Type.Optional(Position),
  after_device: Type.Optional(Type.String({ maxLength: 1000 })),
});

export async function pushConsolePages(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(PUSH_PATH, { schema: { querystring: PushQuery } }, async (req, reply) => {
    const { db, clock } = app.platform;
    const now = clock.now();
    const q = req.query;
    const at = pageIsAfter(q, CURSOR, 'a device') ? { appId: q.after_app!, uuid: q.after_uuid!, createdAt: q.after_time!, deviceId: q.after_device! } : undefined;
    // Read from the index where the page starts.
    const rows = await store.devicesPage(db, at, OVERVIEW_PAGE + 1);
    const cursor = (last: store.TokenRow) => ({ after_app: last.app_id, after_uuid: last.uuid, after_time: last.created_at, after_device: last.device_id });
    const { shown: devices, links, noMore } = listPage(PUSH_PATH, 'devices', rows, at !== undefined, cursor);
    const apps = new Map((await findAppsByIds(db, [...new Set(devices.map((d) => d.app_id))])).map((a) => [a.id, a]));
    const cards = await Promise.all(
      devices.map(async (d) => {
        const t = tokenJson(d, now);
        const appName = apps.get(d.app_id)?.name ?? String(d.app_id);
        const inbox = (await store.deliveries(db, d.app_id, { uuid: d.uuid, deviceId: d.device_id }, SHOWN)).map(deliveryJson);
        return html`<div class="card" data-device="${d.device_id}"><strong>uuid ${t.uuid} &middot; ${t.device_id}</strong> <span class="pill">${t.push_type}</span>${t.expired ? html` <span class="pill">expired</span>` : ''}
<div class="muted">registered ${t.created_at}${t.expires_at ? html` &middot; expires ${t.expires_at}` : ' · no expiry'}</div>
${inbox.length === 0 ? html`<p class="muted">No notifications.</p>` : ''}
${inbox.map(
  (n) => html`<div class="bubble" data-push="${n.id}"><div class="muted">${appName} &middot; ${n.sent_at}${n.notification.badge !== undefined ? html` &middot; badge ${n.notification.badge}` : ''}${n.notification.sound ? html` &middot; &#x1F514; ${n.notification.sound}` : ''}${n.truncated ? ' · cut to 4 KB' : ''}${n.notification.silent ? ' · silent' : ''}</div>
${n.notification.title ? html`<strong>${n.notification.title}</strong><br>` : ''}${n.notification.body ?? ''}
${Object.entries(n.notification.custom as Record<string, unknown>).map(([k, v]) => html`<span class="pill">${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}</span>`)}</div>`,
)}</div>`;
      }),
    );
    // The page's devices by app, in the order read: an app whose devices go on past the page goes on in the next.
    const sections = [];
    for (let i = 0; i < devices.length; ) {
      const appId = devices[i].app_id;
      let end = i;
      while (end < devices.length && devices[end].app_id === appId) end++;
      sections.push(html`<section data-app="${appId}"><h2>${apps.get(appId)?.name ?? appId} <span class="muted">app ${appId}</span></h2>${cards.slice(i, end)}</section>`);
      i = end;
    }
    const empty = at ? noMore : html`<section><p class="muted">No device registered (POST /v2/push/register).</p></section>`;
    const body = html`<h1>Push notifications</h1>${sections.length ? sections : empty}${links}`;
    return reply.type(HTML_TYPE).send(consolePage('Push notifications', body));
  });
}
