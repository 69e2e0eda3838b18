import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { findAccountById } from '../../store/accounts.js';
import { findAppById } from '../../store/apps.js';
import * as store from './store.js';
import { permalink, storiesJson, type LinkInfo } from './operations.js';

/**
 * The web pages behind a story's `url` and a profile's `permalink`: what a friend would see
 * on Kakao Story, served by Kapibara so the URLs an app receives really open.
 */

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;max-width:640px;margin:2em auto;padding:0 1em;color:#222}
.story{border:1px solid #ddd;border-radius:8px;padding:1em;margin:1em 0}.meta{color:#777;font-size:.9em}
.photos img{max-width:100%;display:block;margin:.5em 0}.link{border:1px solid #eee;padding:.5em;display:block}
.content{white-space:pre-wrap}</style></head><body>${body}</body></html>`;
}

/** A story or profile that does not exist (any more): a page, as a browser opened the link. */
export function notFoundPage(): string {
  return layout('Kakao Story', '<h1>This story is not available</h1><p class="meta">It was deleted, or the link is wrong.</p>');
}

export async function storyPage(db: Kysely<DB>, origin: string, id: string): Promise<string | undefined> {
  if (!store.parseStoryId(id)) return undefined;
  const row = await store.findStory(db, id);
  if (!row) return undefined;
  const [json] = await storiesJson(db, origin, [row], true);
  const owner = await findAccountById(db, row.account_id);
  const profile = await store.findProfile(db, row.account_id);
  const name = profile?.nickname ?? owner?.nickname ?? '';
  const parts: string[] = [];
  parts.push(`<p class="meta"><a href="${esc(permalink(origin, profile?.handle ?? ''))}">${esc(name)}</a> · <time>${esc(json.created_at)}</time> · ${esc(row.permission)}</p>`);
  if (json.content) parts.push(`<p class="content">${esc(json.content)}</p>`);
  if (json.media) {
    parts.push(`<div class="photos">${json.media.map((m) => `<a href="${esc(m.original)}"><img src="${esc(m.large)}" alt=""></a>`).join('')}</div>`);
  }
  if (row.link_info) {
    const link = JSON.parse(row.link_info) as LinkInfo;
    parts.push(
      `<a class="link" href="${esc(link.url)}">${link.image[0] ? `<img src="${esc(link.image[0])}" alt="" width="120">` : ''}<strong>${esc(link.title)}</strong><br>${esc(link.description)}<br><small>${esc(link.host)}</small></a>`,
    );
  }
  const launch = await appLaunch(db, row);
  if (launch) parts.push(launch);
  parts.push(`<p class="meta">${json.like_count} moods · ${json.comment_count} comments</p>`);
  if (json.likes?.length) parts.push(`<ul>${json.likes.map((l) => `<li>${esc(l.actor.display_name)}: ${esc(l.emotion)}</li>`).join('')}</ul>`);
  if (json.comments?.length) {
    parts.push(`<ul>${json.comments.map((c) => `<li><strong>${esc(c.writer.display_name)}</strong> ${esc(c.text)}</li>`).join('')}</ul>`);
  }
  return layout(`${name} - Kakao Story`, `<article class="story" data-story-id="${esc(row.id)}">${parts.join('\n')}</article>`);
}

/** The [View on app] links Kakao Story builds from the exec/market params (seed: execution and market URLs). */
async function appLaunch(db: Kysely<DB>, row: store.StoryRow): Promise<string | undefined> {
  if (row.app_id === null) return undefined;
  if (!row.android_exec_param && !row.ios_exec_param && !row.android_market_param && !row.ios_market_param) return undefined;
  const app = await findAppById(db, row.app_id);
  if (!app) return undefined;
  const scheme = `kakao${app.keys.native}://kakaostory`;
  const links: string[] = [];
  if (row.android_exec_param !== null) links.push(`<a data-platform="android" href="${esc(`${scheme}?${row.android_exec_param}`)}">View on app (Android)</a>`);
  if (row.ios_exec_param !== null) links.push(`<a data-platform="ios" href="${esc(`${scheme}?${row.ios_exec_param}`)}">View on app (iOS)</a>`);
  if (row.android_market_param !== null) links.push(`<span data-market="android">market params: ${esc(row.android_market_param)}</span>`);
  if (row.ios_market_param !== null) links.push(`<span data-market="ios">App Store params: ${esc(row.ios_market_param)}</span>`);
  return `<p class="launch">${esc(app.name)}: ${links.join(' · ')}</p>`;
}

export async function profilePage(db: Kysely<DB>, origin: string, handle: string): Promise<string | undefined> {
  if (!/^[0-9A-Za-z]{7}$/.test(handle)) return undefined;
  const profile = await store.findProfileByHandle(db, handle);
  if (!profile) return undefined;
  const owner = await findAccountById(db, profile.account_id);
  if (!owner) return undefined;
  const name = profile.nickname ?? owner.nickname;
  const rows = await store.listStories(db, owner.id, 50, undefined, 'PUBLIC');
  const stories = await storiesJson(db, origin, rows, false);
  const items = stories.map((s) => `<li><a href="${esc(s.url)}">${esc(s.created_at)}</a> ${esc((s.content ?? '').slice(0, 80))}</li>`).join('');
  return layout(`${name} - Kakao Story`, `<h1>${esc(name)}</h1><p class="meta">Public stories</p><ul>${items}</ul>`);
}
