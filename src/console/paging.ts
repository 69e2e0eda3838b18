import { html, type RawHtml } from '../core/html.js';
import { PageError } from '../core/errors.js';
import { errorPage } from '../core/pages.js';
import { cursorMissing } from '../core/cursors.js';
import { CONSOLE_PREFIX, OVERVIEW_PAGE } from './routes.js';

/**
 * The console's lists of a product page (channels, devices), OVERVIEW_PAGE at a time in the
 * order of a store's index: a page after an item is named by every field of its place (keys
 * and time, so an item deleted meanwhile still has its place), which its "Next" link carries.
 */

/**
 * Whether the query names a page after an item (`names`, all of them: the "Next" link has them
 * all); only some of them are the 400 page saying which are missing. `item` is what the list
 * holds ("a channel").
 */
export function pageIsAfter(query: Readonly<Record<string, unknown>>, names: readonly string[], item: string): boolean {
  const partial = cursorMissing(query, names);
  if (partial) {
    const { missing, given } = partial;
    throw new PageError(400, errorPage('400', `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} required with ${given.join(', ')}: a page after ${item} is named by ${names.join(', ')} together (the "Next" link has them all).`));
  }
  return query[names[0]] !== undefined;
}

/**
 * A page of the list at `path` (under the console) from `rows`, read as OVERVIEW_PAGE + 1 (one
 * more than shown tells whether a next page exists, without counting): the rows shown, the
 * "First" and "Next" links (`cursor`: the query naming the last row's place), and what to say
 * when a page after an item (`after`) is empty. `things` names them ("channels").
 */
export function listPage<T>(path: string, things: string, rows: T[], after: boolean, cursor: (last: T) => Record<string, string | number>) {
  const shown = rows.slice(0, OVERVIEW_PAGE);
  let next: RawHtml | '' = '';
  if (rows.length > OVERVIEW_PAGE) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(cursor(shown[shown.length - 1]))) query.set(k, String(v));
    next = html`<a data-next="${things}" href="${`${CONSOLE_PREFIX}${path}?${query}`}">Next ${things}</a>`;
  }
  const first = after ? html`<a href="${CONSOLE_PREFIX}${path}">First ${things}</a> ` : '';
  return {
    shown,
    links: first || next ? html`<p>${first}${next}</p>` : '',
    noMore: html`<section><p class="muted">No more ${things}.</p></section>`,
  };
}
