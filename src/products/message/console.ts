import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ConsoleSection } from '../../core/product.js';
import { html, type RawHtml } from '../../core/html.js';
import { isoSeconds } from '../../core/clock.js';
import { HTML_TYPE } from '../../core/http.js';
import { CONTROL_PATH } from '../../core/security.js';
import type { DB } from '../../db/schema.js';
import { CONSOLE_PREFIX, consolePage, noSuchPerson } from '../../console/routes.js';
import { type Account, findAccountById } from '../../store/accounts.js';
import { shownText } from './templates.js';
import { COUNT_CAP, countMessages, findGroupChats, listChats, listMessages, pageOfChats, quietGroupChats, type StoredMessage } from './store.js';

/** The console's Kakao Talk section: a person's chats and their messages, rendered, and a page with all their chats. */

const CHATS_SHOWN = 20;
const MESSAGES_PER_CHAT = 10;
/** Group chats with no message shown at most, newest first (the rest: the control plane's list). */
const QUIET_SHOWN = 20;

type Obj = Record<string, any>;

function linkTargets(link: Obj | undefined): RawHtml {
  if (!link) return html``;
  const url = link.web_url ?? link.mobile_web_url;
  return url ? html` <a href="${url}" class="muted">${url}</a>` : html``;
}

function contentCard(c: Obj | undefined): RawHtml {
  if (!c) return html``;
  return html`<div class="card">${c.image_url ? html`<img src="${c.image_url}" alt="">` : ''}
<strong>${c.title ?? ''}</strong>${c.description ? html`<br>${c.description}` : ''}${linkTargets(c.link)}</div>`;
}

/** A scrapped page (`object_type: scrap`): its title, description and picture, and the site it came from. */
function scrapCard(t: Obj): RawHtml {
  return html`<div class="card">${t.image_url ? html`<img src="${t.image_url}" alt="">` : ''}
<strong>${t.title ?? t.url ?? ''}</strong>${t.description ? html`<br>${t.description}` : ''}<br><span class="muted">${t.site_name ?? t.host ?? ''}</span>${linkTargets({ web_url: t.url })}</div>`;
}

/** A message's final template, drawn roughly as Kakao Talk shows it. */
export function renderTemplate(t: Obj): RawHtml {
  const buttons: Obj[] = Array.isArray(t.buttons) ? t.buttons : t.button_title ? [{ title: t.button_title }] : [];
  const social = t.social
    ? html`<div class="muted">${Object.entries(t.social as Obj)
        .map(([k, v]) => `${k.replace('_count', '')} ${v}`)
        .join(' · ')}</div>`
    : '';
  const commerce = t.commerce
    ? html`<div><strong>${t.commerce.product_name ?? ''}</strong> ${t.commerce.discount_price ?? t.commerce.regular_price}${t.commerce.currency_unit ?? '원'}
${t.commerce.discount_price ? html` <s class="muted">${t.commerce.regular_price}</s>` : ''}${t.commerce.discount_rate ? html` ${t.commerce.discount_rate}%` : ''}</div>`
    : '';
  return html`<div class="bubble"><span class="pill">${t.object_type}</span>
${t.header_title ? html`<div><strong>${t.header_title}</strong></div>` : ''}
${typeof t.text === 'string' && t.text ? html`<div>${shownText(t.text)}</div>` : ''}
${t.address ? html`<div>&#x1F4CD; ${t.address_title ?? ''} ${t.address}</div>` : ''}
${contentCard(t.content)}
${t.object_type === 'scrap' ? scrapCard(t) : ''}
${Array.isArray(t.contents) ? t.contents.map((c: Obj) => contentCard(c)) : ''}
${commerce}${social}
${buttons.map((b) => html`<span class="pill">${b.title}</span>`)}</div>`;
}

/** Where a person's chats are paged, past the first page the person page shows. */
export const CHATS_PATH = '/people/:account_id/chats';
const chatsPage = (accountId: number, page: number) => `${CONSOLE_PREFIX}/people/${accountId}/chats?page=${page}`;

/**
 * One page of a person's chats (`page` from 1, CHATS_SHOWN each, most recent first) with
 * their latest messages, and the newest QUIET_SHOWN group chats they are in that hold no
 * message of theirs. Of the group chats, only those it shows are read (and one more quiet
 * one, to know that more follow), never with every member of every chat the person is in;
 * finding the quiet ones may seek through the person's memberships (one index seek each,
 * bounded by the chats they are in, not by the table) when few of them are quiet.
 */
async function chatsHtml(db: Kysely<DB>, person: Account, page: number): Promise<{ total: number; shown: number; body: RawHtml }> {
  const all = await listChats(db, person.id);
  const chats = pageOfChats(all, undefined, (page - 1) * CHATS_SHOWN, CHATS_SHOWN);
  const total = all.length;
  // Only the group chats the page shows: those among its chats, and the first quiet ones.
  const [shownGroups, quietRows] = await Promise.all([
    findGroupChats(db, chats.filter((c) => c.type === 'group').map((c) => c.peerAccountId)),
    quietGroupChats(db, person.id, QUIET_SHOWN + 1),
  ]);
  const groups = new Map(shownGroups.map((g) => [g.id, g]));
  const quiet = quietRows.slice(0, QUIET_SHOWN);
  const shownChats = await Promise.all(
    chats.map(async (c) => {
      const chat = { type: c.type, peer: c.peerAccountId };
      const [messages, count] = await Promise.all([listMessages(db, person.id, chat, {}, MESSAGES_PER_CHAT), countMessages(db, person.id, chat)]);
      return { c, messages, count };
    }),
  );
  const people = [
    person.id,
    ...chats.filter((c) => c.type !== 'group').map((c) => c.peerAccountId),
    ...[...shownGroups, ...quiet].flatMap((g) => g.memberAccountIds),
    ...shownChats.flatMap((s) => s.messages.map((m) => m.senderAccountId)),
  ];
  const appIds = [...new Set(shownChats.flatMap((s) => s.messages.map((m) => m.appId)))];
  const [nameRows, appRows] = await Promise.all([
    db.selectFrom('accounts').select(['id', 'nickname']).where('id', 'in', [...new Set(people)]).execute(),
    appIds.length ? db.selectFrom('apps').select(['id', 'name']).where('id', 'in', appIds).execute() : [],
  ]);
  const names = new Map(nameRows.map((r) => [Number(r.id), r.nickname]));
  const apps = new Map(appRows.map((a) => [Number(a.id), a.name]));
  const rendered = shownChats.map(({ c, messages, count }) => {
    const group = c.type === 'group' ? groups.get(c.peerAccountId) : undefined;
    const title =
      c.type === 'memo'
        ? 'Me (memo chat)'
        : c.type === 'group'
          ? `${group?.title ?? `group chat ${c.peerAccountId}`} (group chat)`
          : names.get(c.peerAccountId) ?? `account ${c.peerAccountId}`;
    const members = group ? html`<div class="muted">Members: ${group.memberAccountIds.map((id) => names.get(id) ?? String(id)).join(', ')}</div>` : '';
    const counted = count > COUNT_CAP ? `${COUNT_CAP}+` : String(count);
    return html`<h3 data-chat="${c.type === 'group' ? `g${c.peerAccountId}` : c.type === 'memo' ? 'memo' : String(c.peerAccountId)}">${title} <span class="muted">${counted} messages</span></h3>${members}
${messages.map(
  (m: StoredMessage) => html`<div class="muted">${isoSeconds(m.createdAt)} &middot; from ${names.get(m.senderAccountId) ?? m.senderAccountId} via ${apps.get(m.appId) ?? m.appId}</div>${renderTemplate(m.template)}`,
)}`;
  });
  const moreQuiet = quietRows.length > QUIET_SHOWN ? html`; and more: <code>GET ${CONTROL_PATH}/group_chats?account_id=${person.id}</code>` : '';
  const quietGroups = quiet.length
    ? html`<p class="muted" data-quiet="${quiet.map((g) => g.id).join(',')}">Group chats with no messages yet: ${quiet.map((g) => `${g.title} (${g.memberAccountIds.map((id) => names.get(id) ?? String(id)).join(', ')})`).join('; ')}${moreQuiet}</p>`
    : '';
  return { total, shown: chats.length, body: html`${total === 0 ? html`<p class="muted">No messages yet.</p>` : rendered}${quietGroups}` };
}

export const talkChatsSection: ConsoleSection = async ({ db }, person) => {
  if (!person.talkUser) return html`<section><h2>Kakao Talk</h2><p class="muted">Does not use Kakao Talk.</p></section>`;
  const { total, shown, body } = await chatsHtml(db, person, 1);
  const more = total > shown ? html`<p><a href="${chatsPage(person.id, 2)}">Older chats (${shown + 1}&ndash;${total} of ${total})</a></p>` : '';
  return html`<section><h2>Kakao Talk chats (${total})</h2>${body}${more}</section>`;
};

const PersonParams = Type.Object({ account_id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) });
const PageQuery = Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })) });

/** Every chat of a person, a page at a time (the person page shows the first). */
export async function messageConsolePages(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(CHATS_PATH, { schema: { params: PersonParams, querystring: PageQuery } }, async (req, reply) => {
    const { db } = app.platform;
    const person = await findAccountById(db, req.params.account_id);
    if (!person) return noSuchPerson(reply, req.params.account_id);
    const page = req.query.page ?? 1;
    const { total, shown, body } = await chatsHtml(db, person, page);
    const first = (page - 1) * CHATS_SHOWN + 1;
    const range = shown === 0 ? html`<p class="muted">No chats on this page: ${person.nickname} has ${total}.</p>` : html`<p class="muted">chats ${first}&ndash;${first + shown - 1} of ${total}</p>`;
    const paging = html`<p>${page > 1 ? html`<a href="${chatsPage(person.id, page - 1)}">Newer chats</a> ` : ''}${first - 1 + shown < total && shown > 0 ? html`<a href="${chatsPage(person.id, page + 1)}">Older chats</a>` : ''}</p>`;
    const title = `${person.nickname}: Kakao Talk chats`;
    return reply.type(HTML_TYPE).send(
      consolePage(title, html`<h1><a href="${CONSOLE_PREFIX}/people/${person.id}">${person.nickname}</a>: Kakao Talk chats (${total})</h1><section>${range}${total === 0 ? '' : body}${paging}</section>`),
    );
  });
}
