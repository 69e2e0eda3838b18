import type { ConsoleSection } from '../../core/product.js';
import { html, type RawHtml } from '../../core/html.js';
import { isoSeconds } from '../../core/clock.js';
import { listChats, listGroupChats, listMessages, type StoredMessage } from './store.js';

/** The console's Kakao Talk section: a person's chats and their messages, rendered. */

const CHATS_SHOWN = 20;
const MESSAGES_PER_CHAT = 10;

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
${t.text ? html`<div>${t.text}</div>` : ''}
${t.address ? html`<div>&#x1F4CD; ${t.address_title ?? ''} ${t.address}</div>` : ''}
${contentCard(t.content)}
${t.object_type === 'scrap' ? scrapCard(t) : ''}
${Array.isArray(t.contents) ? t.contents.map((c: Obj) => contentCard(c)) : ''}
${commerce}${social}
${buttons.map((b) => html`<span class="pill">${b.title}</span>`)}</div>`;
}

export const talkChatsSection: ConsoleSection = async ({ db }, person) => {
  if (!person.talkUser) return html`<section><h2>Kakao Talk</h2><p class="muted">Does not use Kakao Talk.</p></section>`;
  const { total, chats } = await listChats(db, person.id, 0, CHATS_SHOWN);
  const groups = new Map((await listGroupChats(db, person.id)).map((g) => [g.id, g]));
  const people = [person.id, ...chats.filter((c) => c.type !== 'group').map((c) => c.peerAccountId), ...[...groups.values()].flatMap((g) => g.memberAccountIds)];
  const names = new Map(
    (await db.selectFrom('accounts').select(['id', 'nickname']).where('id', 'in', people).execute()).map((r) => [Number(r.id), r.nickname]),
  );
  const apps = new Map((await db.selectFrom('apps').select(['id', 'name']).execute()).map((a) => [a.id, a.name]));
  const rendered = await Promise.all(
    chats.map(async (c) => {
      const { messages } = await listMessages(db, person.id, { type: c.type, peer: c.peerAccountId }, 0, MESSAGES_PER_CHAT);
      const group = c.type === 'group' ? groups.get(c.peerAccountId) : undefined;
      const title =
        c.type === 'memo'
          ? 'Me (memo chat)'
          : c.type === 'group'
            ? `${group?.title ?? `group chat ${c.peerAccountId}`} (group chat)`
            : names.get(c.peerAccountId) ?? `account ${c.peerAccountId}`;
      const members = group ? html`<div class="muted">Members: ${group.memberAccountIds.map((id) => names.get(id) ?? String(id)).join(', ')}</div>` : '';
      return html`<h3 data-chat="${c.type === 'group' ? `g${c.peerAccountId}` : c.type === 'memo' ? 'memo' : String(c.peerAccountId)}">${title} <span class="muted">${c.messageCount} messages</span></h3>${members}
${messages.map(
  (m: StoredMessage) => html`<div class="muted">${isoSeconds(m.createdAt)} &middot; from ${names.get(m.senderAccountId) ?? m.senderAccountId} via ${apps.get(m.appId) ?? m.appId}</div>${renderTemplate(m.template)}`,
)}`;
    }),
  );
  const quiet = [...groups.values()].filter((g) => !chats.some((c) => c.type === 'group' && c.peerAccountId === g.id));
  const quietGroups = quiet.length
    ? html`<p class="muted">Group chats with no messages yet: ${quiet.map((g) => `${g.title} (${g.memberAccountIds.map((id) => names.get(id) ?? String(id)).join(', ')})`).join('; ')}</p>`
    : '';
  return html`<section><h2>Kakao Talk chats (${total})</h2>${total === 0 ? html`<p class="muted">No messages yet.</p>` : rendered}${quietGroups}</section>`;
};

