import type { FastifyInstance } from 'fastify';
import type { ConsoleSection } from '../../core/product.js';
import { html } from '../../core/html.js';
import { isoSeconds } from '../../core/clock.js';
import { HTML_TYPE } from '../../core/http.js';
import { CONSOLE_PREFIX, consolePage } from '../../console/routes.js';
import { findAccountById } from '../../store/accounts.js';
import { findAppById } from '../../store/apps.js';
import * as store from './store.js';
import { filesJson } from './operations.js';

/** The console's Kakao Talk Channel views: a person's channels, and every channel with its followers, customer files and chats. */

export const CHANNELS_PATH = '/channels';
const USERS_SHOWN = 20;

export const channelSection: ConsoleSection = async ({ db }, person) => {
  const relations = await store.relationsOfAccount(db, person.id);
  if (relations.length === 0) return html`<section><h2>Kakao Talk Channels</h2><p class="muted">No channel added or blocked.</p></section>`;
  const channels = new Map((await store.listChannels(db)).map((c) => [c.id, c]));
  return html`<section><h2>Kakao Talk Channels (${relations.length})</h2><table><tr><th>Channel</th><th>Relation</th><th>Since</th></tr>
${relations.map((r) => {
  const c = channels.get(r.channelId);
  return html`<tr><td>${c?.name ?? r.channelId} <code>${c?.public_id ?? ''}</code></td><td>${r.relation}</td><td>${isoSeconds(r.updatedAt)}</td></tr>`;
})}</table></section>`;
};

export async function channelConsolePages(app: FastifyInstance): Promise<void> {
  app.get(CHANNELS_PATH, async (_req, reply) => {
    const { db } = app.platform;
    const channels = await store.listChannels(db);
    const sections = await Promise.all(
      channels.map(async (c) => {
        const [owner, relations, files, chats] = await Promise.all([
          findAppById(db, c.owner_app_id),
          store.relationsOfChannel(db, c.id),
          filesJson(app.platform, c),
          store.chatMessages(db, c.id, undefined, 20),
        ]);
        const people = new Map<number, string>();
        for (const id of new Set([...relations.map((r) => r.accountId), ...chats.map((m) => m.accountId)])) {
          people.set(id, (await findAccountById(db, id))?.nickname ?? String(id));
        }
        const fileUsers = await Promise.all(files.map((f) => store.fileUsers(db, f.file_id, USERS_SHOWN)));
        const added = relations.filter((r) => r.relation === 'ADDED').length;
        return html`<section data-channel="${c.public_id}"><h2>${c.name} <code>${c.public_id}</code> <code>${c.search_id}</code>${c.banned ? html` <span class="pill">banned</span>` : ''}</h2>
<p class="muted">Owned by ${owner?.name ?? c.owner_app_id} &middot; ${added} followers &middot; created ${isoSeconds(c.created_at)}</p>
<h3>Followers and blocks</h3>${
          relations.length === 0
            ? html`<p class="muted">Nobody has added or blocked this channel.</p>`
            : html`<table><tr><th>Person</th><th>Relation</th><th>Since</th><th>Changed</th></tr>${relations.map(
                (r) => html`<tr><td><a href="${CONSOLE_PREFIX}/people/${r.accountId}">${people.get(r.accountId)}</a></td><td>${r.relation}</td><td>${isoSeconds(r.createdAt)}</td><td>${isoSeconds(r.updatedAt)}</td></tr>`,
              )}</table>`
        }
<h3>Customer files (${files.length})</h3>${files.map(
          (f, i) => html`<div class="card"><strong>${f.file_name}</strong> <span class="muted">file ${f.file_id} &middot; ${f.user_count} users &middot; updated ${f.updated_at}</span><br>
${Object.entries(f.schema).map(([k, t]) => html`<span class="pill">${k}: ${t}</span>`)}
<table><tr><th>Type</th><th>Id</th><th>Fields</th></tr>${fileUsers[i].map((u) => html`<tr><td>${u.userType}</td><td><code>${u.userId}</code></td><td><code>${JSON.stringify(u.fields)}</code></td></tr>`)}</table></div>`,
        )}
<h3>Chats</h3>${chats.length === 0 ? html`<p class="muted">No messages.</p>` : chats.map((m) => html`<div class="bubble"><strong>${people.get(m.accountId)}</strong> ${m.text} <span class="muted">${isoSeconds(m.createdAt)}</span></div>`)}
</section>`;
      }),
    );
    const body = html`<h1>Kakao Talk Channels</h1>${channels.length === 0 ? html`<section><p class="muted">No channels yet: create one with POST /_kapibara/v1/channels.</p></section>` : sections}`;
    return reply.type(HTML_TYPE).send(consolePage('Kakao Talk Channels', body));
  });
}
