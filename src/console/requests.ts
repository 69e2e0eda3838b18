import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, type RawHtml } from '../core/html.js';
import { HTML_TYPE, JSON_TYPE } from '../core/http.js';
import type { RequestRecord } from '../core/inspector.js';
import { listRequests } from '../control/requests.js';

/**
 * The request inspector in the console: the latest calls apps made, newest first, and a
 * small script (served from here, so a strict CSP allows it) that polls for new ones every
 * second and adds them at the top. Without JavaScript the page shows what was there.
 */

const SHOWN = 200;

function row(r: RequestRecord): RawHtml {
  return html`<tr data-id="${r.id}"><td>${r.time.slice(11, 23)}</td><td><code>${r.method} ${r.path}</code></td><td>${r.surface}</td>
<td>${r.app_id ?? '—'}</td><td>${r.account_id ?? '—'}</td><td>${r.api_type ?? ''}</td><td>${r.status}</td><td>${r.error_code ?? ''}</td><td>${r.duration_ms} ms</td></tr>`;
}

const SCRIPT = `(() => {
  const body = document.getElementById('requests');
  let last = Number(body.dataset.last || 0);
  const cell = (text) => { const td = document.createElement('td'); td.textContent = text; return td; };
  async function poll() {
    try {
      const res = await fetch(body.dataset.feed + '?after=' + last, { credentials: 'same-origin' });
      if (res.ok) {
        for (const r of (await res.json()).requests) {
          const tr = document.createElement('tr');
          tr.dataset.id = r.id;
          const code = document.createElement('code');
          code.textContent = r.method + ' ' + r.path;
          const where = document.createElement('td');
          where.append(code);
          tr.append(cell(r.time.slice(11, 23)), where, cell(r.surface), cell(r.app_id ?? '—'), cell(r.account_id ?? '—'),
            cell(r.api_type ?? ''), cell(r.status), cell(r.error_code ?? ''), cell(r.duration_ms + ' ms'));
          body.prepend(tr);
          last = r.id;
        }
        while (body.rows.length > ${SHOWN}) body.deleteRow(body.rows.length - 1);
      }
    } finally {
      setTimeout(poll, 1000);
    }
  }
  poll();
})();
`;

/**
 * The page links its script and feed by absolute paths under `prefix` (the console's): a
 * relative link would resolve under `/requests/` when the page is opened with a trailing
 * slash, which the router also answers.
 */
export default function consoleRequests(prefix: string, page: (title: string, body: RawHtml) => string, allowed: (req: FastifyRequest, reply: FastifyReply) => boolean) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/requests', {}, async (req, reply) => {
      if (!allowed(req, reply)) return reply;
      const { requests, capacity, recorded } = await listRequests(app.platform, { limit: SHOWN });
      const newest = [...requests].reverse();
      const body = html`<h1>Requests</h1>
<section><p class="muted">What apps sent to kauth, kapi and the Kakao pages, newest first (live). Kapibara keeps the last ${capacity}
of ${recorded} recorded; tokens and secrets are never recorded. Filter and read them in tests with
<code>GET /_kapibara/v1/requests?app=&amp;path=&amp;status=</code>.</p>
<table><thead><tr><th>Time</th><th>Request</th><th>Surface</th><th>App</th><th>Account</th><th>api_type</th><th>Status</th><th>Code</th><th>Took</th></tr></thead>
<tbody id="requests" data-last="${requests.at(-1)?.id ?? 0}" data-feed="${prefix}/requests.json">${newest.map(row)}</tbody></table></section>
<script src="${prefix}/requests.js"></script>`;
      return reply.header('cache-control', 'no-store').type(HTML_TYPE).send(page('Requests', body));
    });
    app.get('/requests.json', {}, async (req, reply) => {
      if (!allowed(req, reply)) return reply;
      const after = Number((req.query as { after?: string }).after ?? 0);
      const list = await listRequests(app.platform, { after: Number.isSafeInteger(after) ? after : 0, limit: SHOWN });
      return reply.header('cache-control', 'no-store').type(JSON_TYPE).send(list);
    });
    app.get('/requests.js', {}, async (_req, reply) => reply.header('cache-control', 'no-store').type('text/javascript; charset=utf-8').send(SCRIPT));
  };
}
