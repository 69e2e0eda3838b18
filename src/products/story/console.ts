import type { ConsoleSection } from '../../core/product.js';
import { html } from '../../core/html.js';
import { listStories } from './store.js';
import { storiesJson } from './operations.js';

/** The console's Kakao Story section: a person's stories with friends' moods and comments. */

const STORIES_SHOWN = 18;

export const storySection: ConsoleSection = async ({ db }, person, origin) => {
  if (!person.storyUser) return html`<section><h2>Kakao Story</h2><p class="muted">Does not use Kakao Story.</p></section>`;
  // One more than shown tells whether there are more.
  const rows = await listStories(db, person.id, STORIES_SHOWN + 1);
  const stories = await storiesJson(db, origin, rows.slice(0, STORIES_SHOWN), true);
  return html`<section><h2>Kakao Story (${stories.length}${rows.length > STORIES_SHOWN ? '+' : ''})</h2>
${stories.length === 0 ? html`<p class="muted">No stories yet.</p>` : ''}
${stories.map(
  (s) => html`<div class="card"><div class="muted">${s.created_at} &middot; ${s.permission} &middot; <a href="${s.url}">${s.media_type}</a></div>
${s.content ? html`<p>${s.content}</p>` : ''}${(s.media ?? []).map((m) => html`<img src="${m.small}" alt="" style="max-width:120px;margin:2px">`)}
<div class="muted">${s.like_count} moods &middot; ${s.comment_count} comments</div>
${(s.likes ?? []).map((l) => html`<span class="pill">${l.actor.display_name}: ${l.emotion}</span>`)}
${(s.comments ?? []).map((c) => html`<div>&#x1F4AC; <strong>${c.writer.display_name}</strong> ${c.text}</div>`)}</div>`,
)}</section>`;
};

