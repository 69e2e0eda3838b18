import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ConsoleSection } from '../../core/product.js';
import { html } from '../../core/html.js';
import { isoSeconds } from '../../core/clock.js';
import { HTML_TYPE } from '../../core/http.js';
import { CONTROL_PATH } from '../../core/security.js';
import { CONSOLE_PREFIX, OVERVIEW_PAGE, consolePage } from '../../console/routes.js';
import { listPage, pageIsAfter } from '../../console/paging.js';
import { nicknamesOf } from '../../store/accounts.js';
import { findAppsByIds } from '../../store/apps.js';
import * as store from './store.js';
import { filesJson } from './operations.js';

/**
 * The console's Kakao Talk Channel views: a person's channels, and the channels (50 at a
 * time, oldest first, with a "Next" link) with their followers, customer files and chats.
 */

export const CHANNELS_PATH = '/channels';
const USERS_SHOWN = 20;
const RELATIONS_SHOWN = 20;

export const channelSection: ConsoleSection = async ({ db }, person) => {
  const relations = await store.relationsOfAccount(db, person.id);
  if (relations.length === 0) return html`<section><h2>Kakao Talk Channels</h2><p class="muted">No channel added or blocked.</p></section>`;
  // The channels this person relates to, by id: never every channel.
  const channels = new Map((await store.findChannelsByIds(db, relations.map((r) => r.channelId))).map((c) => [c.id, c]));
  return html`<section><h2>Kakao Talk Channels (${relations.length})</h2><table><tr><th>Channel</th><th>Relation</th><th>Since</th></tr>
${relations.map((r) => {
  const c = channels.get(r.channelId);
  return html`<tr><td>${c?.name ?? r.channelId} <code>${c?.public_id ?? ''}</code></td><td>${r.relation}</td><td>${isoSeconds(r.updatedAt)}</td></tr>`;
})}</table></section>`;
};

const Position = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** A page after a channel: its id and time, both named by the "Next" link (a channel deleted meanwhile still has its place). */
const ChannelsQuery = Type.Object({ after: Type.Optional(Position), after_time: Type.Optional(Position) });

const counted = (n: number) => (n > store.RELATIONS_COUNT_CAP ? `${store.RELATIONS_COUNT_CAP}+` : String(n));

export async function channelConsolePages(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(CHANNELS_PATH, { schema: { querystring: ChannelsQuery } }, async (req, reply) => {
    const { db } = app.platform;
    const { after, after_time: afterTime } = req.query;
    const at = pageIsAfter(req.query, ['after', 'after_time'], 'a channel') ? { createdAt: afterTime!, id: after! } : undefined;
    // Read from the index where the page starts.
    const rows = await store.listChannelsPage(db, at, OVERVIEW_PAGE + 1);
    const { shown: channels, links, noMore } = listPage(CHANNELS_PATH, 'channels', rows, at !== undefined, (last) => ({ after: last.id, after_time: last.created_at }));
    const owners = new Map((await findAppsByIds(db, [...new Set(channels.map((c) => c.owner_app_id))])).map((a) => [a.id, a.name]));
    const shown = await Promise.all(
      channels.map(async (c) => {
        const [relations, counts, files, chats] = await Promise.all([
          store.relationsOfChannelPage(db, c.id, undefined, RELATIONS_SHOWN),
          store.countRelations(db, c.id),
          filesJson(app.platform, c),
          store.chatMessages(db, c.id, undefined, 20),
        ]);
        const fileUsers = await Promise.all(files.map((f) => store.fileUsers(db, f.file_id, USERS_SHOWN)));
        return { c, relations, counts, files, chats, fileUsers };
      }),
    );
    const people = await nicknamesOf(db, shown.flatMap((s) => [...s.relations.map((r) => r.accountId), ...s.chats.map((m) => m.accountId)]));
    const nickname = (id: number) => people.get(id) ?? String(id);
    const sections = shown.map(({ c, relations, counts, files, chats, fileUsers }) => {
      const total = counts.added + counts.blocked;
      const more = relations.length < total ? html`<p class="muted">${relations.length} of ${counted(total)} shown (by account id); every one: <code>GET ${CONTROL_PATH}/channels/${c.public_id}/relations</code></p>` : '';
      return html`<section data-channel="${c.public_id}"><h2>${c.name} <code>${c.public_id}</code> <code>${c.search_id}</code>${c.banned ? html` <span class="pill">banned</span>` : ''}</h2>
<p class="muted">Owned by ${owners.get(c.owner_app_id) ?? c.owner_app_id} &middot; ${counted(counts.added)} followers &middot; ${counted(counts.blocked)} blocks &middot; created ${isoSeconds(c.created_at)}</p>
<h3>Followers and blocks</h3>${
        relations.length === 0
          ? html`<p class="muted">Nobody has added or blocked this channel.</p>`
          : html`<table><tr><th>Person</th><th>Relation</th><th>Since</th><th>Changed</th></tr>${relations.map(
              (r) => html`<tr><td><a href="${CONSOLE_PREFIX}/people/${r.accountId}">${nickname(r.accountId)}</a></td><td>${r.relation}</td><td>${isoSeconds(r.createdAt)}</td><td>${isoSeconds(r.updatedAt)}</td></tr>`,
            )}</table>${more}`
      }
<h3>Customer files (${files.length})</h3>${files.map(
        (f, i) => html`<div class="card"><strong>${f.file_name}</strong> <span class="muted">file ${f.file_id} &middot; ${f.user_count} users &middot; updated ${f.updated_at}</span><br>
${Object.entries(f.schema).map(([k, t]) => html`<span class="pill">${k}: ${t}</span>`)}
<table><tr><th>Type</th><th>Id</th><th>Fields</th></tr>${fileUsers[i].map((u) => html`<tr><td>${u.userType}</td><td><code>${u.userId}</code></td><td><code>${JSON.stringify(u.fields)}</code></td></tr>`)}</table></div>`,
      )}
<h3>Chats</h3>${chats.length === 0 ? html`<p class="muted">No messages.</p>` : chats.map((m) => html`<div class="bubble"><strong>${nickname(m.accountId)}</strong> ${m.text} <span class="muted">${isoSeconds(m.createdAt)}</span></div>`)}
</section>`;
    });
    const empty = at ? noMore : html`<section><p class="muted">No channels yet: create one with POST ${CONTROL_PATH}/channels.</p></section>`;
    const body = html`<h1>Kakao Talk Channels</h1>${channels.length === 0 ? empty : sections}${links}`;
    return reply.type(HTML_TYPE).send(consolePage('Kakao Talk Channels', body));
  });
}
