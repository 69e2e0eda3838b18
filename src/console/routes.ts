import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { html, raw, type RawHtml } from '../core/html.js';
import { isoSeconds } from '../core/clock.js';
import { findAppsByIds, listAppsPage } from '../store/apps.js';
import { type Account, findAccountById, listAccounts, searchAccounts } from '../store/accounts.js';
import { toLink } from '../store/links.js';
import { listFriends } from '../store/friendships.js';
import { originOf } from '../core/platform.js';
import { urlForClient } from '../core/own-urls.js';
import { initialOf } from './avatars.js';
import { HTML_TYPE } from '../core/http.js';
import type { Product } from '../core/product.js';
import consoleRequests from './requests.js';

/**
 * The web console: what the platform holds and what each simulated person would see.
 * Read-only HTML; tests and scripts change state through the control plane.
 */
export const CONSOLE_PREFIX = '/_kapibara/console';

const STYLE = `
body{font-family:system-ui,-apple-system,"Apple SD Gothic Neo",sans-serif;margin:0;background:#f6f6f6;color:#191919}
header{background:#fee500;padding:12px 24px;display:flex;gap:16px;align-items:baseline}
header a{color:#191919;text-decoration:none;font-weight:700}
main{max-width:1100px;margin:24px auto;padding:0 16px}
section{background:#fff;border-radius:10px;padding:16px 20px;margin-bottom:18px;box-shadow:0 1px 3px rgba(0,0,0,.06)}
h1{font-size:22px}h2{font-size:16px;margin-top:0}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eee;vertical-align:top}
code{font-size:12px;background:#f3f3f3;padding:1px 4px;border-radius:4px;word-break:break-all}
.muted{color:#777}.pill{display:inline-block;background:#eee;border-radius:10px;padding:1px 8px;margin:1px;font-size:12px}
.avatar{width:40px;height:40px;border-radius:14px;background:#ddd;display:inline-flex;align-items:center;justify-content:center;font-weight:700}
.bubble{background:#fff7c2;border-radius:10px;padding:10px 12px;margin:8px 0;max-width:520px}
.card{border:1px solid #eee;border-radius:10px;padding:10px;margin:8px 0;max-width:420px}
.card img{max-width:100%;max-height:220px;object-fit:cover;border-radius:6px}
.avatar img{width:40px;height:40px;border-radius:14px}`;

/** The console's page shell; products' console pages use it too. */
export function consolePage(title: string, body: RawHtml): string {
  return page(title, body);
}

/** The 404 page of a console page about a person who does not exist. */
export function noSuchPerson(reply: FastifyReply, accountId: number): FastifyReply {
  return reply.status(404).type(HTML_TYPE).send(page('Not found', html`<section><h1>No person with account id ${accountId}</h1></section>`));
}

function page(title: string, body: RawHtml): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} &middot; Kapibara console</title><style>${raw(STYLE)}</style></head>
<body><header><a href="${CONSOLE_PREFIX}">Kapibara console</a><a href="${CONSOLE_PREFIX}/requests">Requests</a><span class="muted">simulated Kakao platform</span></header>
<main>${body}</main></body></html>`.html;
}

/**
 * A person's picture, or the first character of their nickname. Kapibara's own pictures are
 * shown on the origin the console was opened on, as the APIs answer them (core/own-urls.ts).
 */
function avatar(p: Account, origin: string): RawHtml {
  return html`<span class="avatar">${p.thumbnailImageUrl ? html`<img src="${urlForClient(p.thumbnailImageUrl, origin)}" alt="">` : initialOf(p.nickname)}</span>`;
}

function checkOperator(req: FastifyRequest, reply: FastifyReply): boolean {
  const token = req.server.platform.config.operatorToken;
  if (!token) return true;
  const given = (req.query as { token?: string }).token ?? /(?:^|;\s*)kapibara_operator=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
  if (given === token) {
    reply.header('set-cookie', `kapibara_operator=${token}; Path=${CONSOLE_PREFIX}; HttpOnly; SameSite=Lax`);
    return true;
  }
  reply.status(401).type(HTML_TYPE).send(page('Operator token required', html`<section><h1>Operator token required</h1>
<p>This Kapibara requires its operator token (docs/control-plane.md). Open the console as <code>${CONSOLE_PREFIX}?token=&lt;operator token&gt;</code>.</p></section>`));
  return false;
}

/** People and apps the overview shows at a time; the rest are a "Next" link or a search away. */
export const OVERVIEW_PAGE = 50;
const SEARCH_LENGTH = 254;
const OverviewQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: SEARCH_LENGTH })),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  apps_after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  /** With `q` and `after`: the nickname of the last match shown (the search's next page). */
  after_nickname: Type.Optional(Type.String({ maxLength: SEARCH_LENGTH })),
});

export default async function consoleRoutes(root: FastifyInstance, products: readonly Product[]): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  await app.register(consoleRequests(CONSOLE_PREFIX, page, checkOperator));
  const links = products.flatMap((p) => p.consolePages?.links ?? []);
  for (const product of products) {
    const own = product.consolePages;
    if (!own) continue;
    await app.register(async (scope) => {
      scope.addHook('onRequest', async (req, reply) => {
        if (!checkOperator(req, reply)) return reply;
      });
      await own.plugin(scope);
    });
  }

  app.get('/', { schema: { querystring: OverviewQuery } }, async (req, reply) => {
    if (!checkOperator(req, reply)) return reply;
    const { db } = app.platform;
    const { q, after, apps_after: appsAfter, after_nickname: afterNickname } = req.query;
    const search = q?.trim() || undefined;
    const searchAfter = search !== undefined && after !== undefined && afterNickname !== undefined ? { nickname: afterNickname, id: after } : undefined;
    // One more than shown is read: whether a next page exists, without counting the table.
    const [appRows, personRows] = await Promise.all([
      listAppsPage(db, appsAfter, OVERVIEW_PAGE + 1),
      search === undefined ? listAccounts(db, after, OVERVIEW_PAGE + 1) : searchAccounts(db, search, OVERVIEW_PAGE + 1, searchAfter),
    ]);
    const apps = appRows.slice(0, OVERVIEW_PAGE);
    const people = personRows.slice(0, OVERVIEW_PAGE);
    const origin = originOf(req);
    const overview = (query: Record<string, string | number | undefined>) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
      const text = params.toString();
      return `${CONSOLE_PREFIX}${text ? `?${text}` : ''}`;
    };
    const nextApps = appRows.length > OVERVIEW_PAGE ? html`<p><a data-next="apps" href="${overview({ apps_after: apps[apps.length - 1].id, after })}">Next apps</a></p>` : '';
    const last = people[people.length - 1];
    const nextPeople =
      personRows.length <= OVERVIEW_PAGE
        ? ''
        : search === undefined
          ? html`<a data-next="people" href="${overview({ after: last.id, apps_after: appsAfter })}">Next people</a>`
          : html`More people match: <a data-next="people" href="${overview({ q: search, after: last.id, after_nickname: last.nickname, apps_after: appsAfter })}">Next matches</a>`;
    const firstPeople = search !== undefined || after !== undefined ? html`<a href="${overview({ apps_after: appsAfter })}">First people</a> ` : '';
    const peopleTitle =
      search === undefined
        ? after === undefined
          ? 'People'
          : html`People after account ${after}`
        : searchAfter
          ? html`People matching &ldquo;${search}&rdquo; after &ldquo;${searchAfter.nickname}&rdquo; (account ${after})`
          : html`People matching &ldquo;${search}&rdquo;`;
    const body = html`<h1>Overview</h1>
${links.length ? html`<section><h2>Products</h2>${links.map((l) => html`<a class="pill" href="${CONSOLE_PREFIX}${l.path}">${l.title}</a>`)}</section>` : ''}
<section><h2>${appsAfter === undefined ? 'Apps' : html`Apps after app ${appsAfter}`}</h2><table><tr><th>App</th><th>Keys</th><th>Redirect URIs</th><th>Consent items</th></tr>
${apps.map(
  (a) => html`<tr><td><strong>${a.name}</strong><br><span class="muted">id ${a.id}</span></td>
<td>REST <code>${a.keys.rest_api}</code><br>JavaScript <code>${a.keys.javascript}</code><br>Native <code>${a.keys.native}</code><br>Admin <code>${a.keys.admin}</code></td>
<td>${a.redirectUris.map((u) => html`<code>${u}</code><br>`)}</td>
<td>${Object.entries(a.consentItems).map(([s, v]) => html`<span class="pill">${s}: ${v}</span>`)}</td></tr>`,
)}</table>${nextApps}</section>
<section><h2>${peopleTitle}</h2>
<form method="get" action="${CONSOLE_PREFIX}"><input name="q" value="${search ?? ''}" maxlength="${SEARCH_LENGTH}" placeholder="account id, email or start of nickname"> <button>Find</button></form>
<table><tr><th></th><th>Nickname</th><th>Email</th><th>Kakao Talk</th><th>Kakao Story</th></tr>
${people.map(
  (p) => html`<tr><td>${avatar(p, origin)}</td>
<td><a href="${CONSOLE_PREFIX}/people/${p.id}">${p.nickname}</a><br><span class="muted">account ${p.id}</span></td>
<td>${p.email}</td><td>${p.talkUser ? 'yes' : 'no'}</td><td>${p.storyUser ? 'yes' : 'no'}</td></tr>`,
)}</table>${people.length === 0 ? html`<p class="muted">${search === undefined ? 'Nobody here.' : 'Nobody found.'}</p>` : ''}<p>${firstPeople}${nextPeople}</p></section>`;
    return reply.type(HTML_TYPE).send(page('Overview', body));
  });

  app.get('/people/:account_id', { schema: { params: Type.Object({ account_id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) }) } }, async (req, reply) => {
    if (!checkOperator(req, reply)) return reply;
    const { db } = app.platform;
    const person = await findAccountById(db, req.params.account_id);
    if (!person) return noSuchPerson(reply, req.params.account_id);
    const [friends, linkRows] = await Promise.all([
      listFriends(db, person.id),
      db.selectFrom('app_users').selectAll().where('account_id', '=', person.id).execute(),
    ]);
    const links = linkRows.map(toLink);
    const appName = new Map((await findAppsByIds(db, links.map((l) => l.appId))).map((a) => [a.id, a.name]));
    const sections = products.flatMap((p) => (p.console ? [p.console] : []));
    const origin = originOf(req);
    const extra = await Promise.all(sections.map((section) => section(app.platform, person, origin)));
    const body = html`<h1>${avatar(person, origin)} ${person.nickname}</h1>
<section><h2>Kakao account</h2><table>
<tr><th>Email</th><td>${person.email}</td><th>Password</th><td class="muted">stored hashed</td></tr>
<tr><th>Name</th><td>${person.name ?? '—'}</td><th>Gender</th><td>${person.gender ?? '—'}</td></tr>
<tr><th>Birthday</th><td>${person.birthyear ?? '????'}-${person.birthday ?? '—'} ${person.birthdayType ?? ''}</td><th>Phone</th><td>${person.phoneNumber ?? '—'}</td></tr>
<tr><th>Kakao Talk</th><td>${person.talkUser ? 'yes' : 'no'}</td><th>Kakao Story</th><td>${person.storyUser ? 'yes' : 'no'}</td></tr></table></section>
<section><h2>Connected apps</h2>${
      links.length === 0
        ? html`<p class="muted">Not connected to any app yet.</p>`
        : html`<table><tr><th>App</th><th>User id</th><th>Connected</th><th>Agreed</th></tr>${links.map(
            (l) => html`<tr><td>${appName.get(l.appId) ?? l.appId}</td><td><code>${l.userId}</code></td><td>${isoSeconds(l.connectedAt)}</td>
<td>${Object.keys(l.scopes).map((s) => html`<span class="pill">${s}</span>`)}${Object.keys(l.terms).map((t) => html`<span class="pill">term: ${t}</span>`)}</td></tr>`,
          )}</table>`
    }</section>
<section><h2>Friends (${friends.length})</h2>${friends.map(
      (f) => html`<span class="pill"><a href="${CONSOLE_PREFIX}/people/${f.accountId}">${f.nickname}</a>${f.favorite ? ' ★' : ''}</span>`,
    )}</section>
${extra}`;
    return reply.type(HTML_TYPE).send(page(person.nickname, body));
  });
}
