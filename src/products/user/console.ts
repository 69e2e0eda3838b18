import type { ConsoleSection } from '../../core/product.js';
import { html } from '../../core/html.js';
import { isoSeconds } from '../../core/clock.js';
import { listShippingAddresses } from './store.js';

/** At most this many addresses on a person's page; the control plane lists them all. */
export const ADDRESSES_SHOWN = 50;

/** A person's shipping addresses, as their Kakao account shows them: the default first, then the newest. */
export const shippingSection: ConsoleSection = async ({ db }, person) => {
  const rows = await listShippingAddresses(db, person.id, { size: ADDRESSES_SHOWN + 1 });
  if (rows.length === 0) return html`<section><h2>Shipping addresses</h2><p class="muted">No shipping address.</p></section>`;
  const shown = rows.slice(0, ADDRESSES_SHOWN);
  const more = rows.length > ADDRESSES_SHOWN
    ? html`<p class="muted">The first ${ADDRESSES_SHOWN}; <code>GET /_kapibara/v1/accounts/${person.id}/shipping_addresses</code> lists every one.</p>`
    : '';
  return html`<section><h2>Shipping addresses</h2><table><tr><th>Name</th><th>Address</th><th>Receiver</th><th>Zone / zip code</th><th>Updated</th></tr>
${shown.map(
  (a) => html`<tr><td>${a.name}${a.is_default === 1 ? html` <span class="pill">default</span>` : ''}<br><span class="muted">id ${a.id}, ${a.type}</span></td>
<td>${a.base_address}${a.detail_address ? html`<br>${a.detail_address}` : ''}</td>
<td>${a.receiver_name ?? '—'}${[a.receiver_phone_number1, a.receiver_phone_number2].filter(Boolean).map((n) => html`<br>${n}`)}</td>
<td>${a.zone_number ?? '—'} / ${a.zip_code ?? '—'}</td><td>${isoSeconds(Number(a.updated_at))}</td></tr>`,
)}</table>${more}</section>`;
};
