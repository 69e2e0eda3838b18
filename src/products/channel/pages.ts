import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PageError } from '../../core/errors.js';
import { sendPage } from '../../core/http.js';
import { escapeHtml } from '../../core/html.js';
import { PAGE_STYLE, errorPage, layout, writtenAsAfterDeletes } from '../../core/pages.js';
import { FormRefused, checkForm, formToken, jsResultOrigins, redirectSource, strictPagePolicy } from '../../core/security.js';
import { isoSeconds } from '../../core/clock.js';
import type { App } from '../../core/model.js';
import { loginUrlFor, personByAgt, sessionValueOf, signedInPerson, type SignedIn } from '../login/index.js';
import * as store from './store.js';
import { addChannel } from './operations.js';
import { newId } from '../../db/ids.js';

/**
 * The channel pages the SDKs open: pf.kakao.com/<public id>/friend (add the channel),
 * pf.kakao.com/<public id>/chat (chat with it), and apps.kakao.com/talk/channel/follow
 * (Kakao.Channel.followChannel). A person who is not signed in is sent through the Kakao
 * Account sign-in page and back. Pages that take a decision carry a CSRF token bound to the
 * login session and may not be framed.
 */

export const FOLLOW_PATH = '/talk/channel/follow';
const CHAT_SHOWN = 100;
const CHAT_TEXT_MAX = 1000;

/**
 * Every channel page has a strict policy: its own inline style (and script), forms only to
 * Kapibara (and on to a follow request's redirect URI), no framing (core/security.ts).
 */
function policy(p: { scripts?: string[]; formTargets?: string[] } = {}): string {
  return strictPagePolicy({ styles: [PAGE_STYLE], scripts: p.scripts, formAction: ["'self'", ...(p.formTargets ?? [])] });
}

function send(reply: FastifyReply, status: number, html: string, pagePolicy = policy()) {
  return sendPage(reply.header('content-security-policy', pagePolicy), status, html);
}

/** A decision form's token: bound to this browser, the login session, the form's purpose and its channel. */
function tokenFor(req: FastifyRequest, reply: FastifyReply, purpose: string, channel: store.ChannelRow): Promise<string> {
  return formToken(req, reply, { purpose, request: channel.public_id, session: sessionValueOf(req) });
}

/** The form came from Kapibara's own page in this browser, for this session (403 otherwise). */
async function checkToken(req: FastifyRequest, purpose: string, channel: store.ChannelRow, token: string | undefined): Promise<void> {
  try {
    await checkForm(req, { purpose, request: channel.public_id, session: sessionValueOf(req) }, token);
  } catch (err) {
    if (err instanceof FormRefused) {
      throw new PageError(403, errorPage('403', `${err.message} Open the channel page again and retry.`), err.message, { 'content-security-policy': policy() });
    }
    throw err;
  }
}

function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

function formFields(req: FastifyRequest): Record<string, string | undefined> {
  const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(body)) out[k] = Array.isArray(v) ? String(v[v.length - 1]) : typeof v === 'string' ? v : undefined;
  return out;
}

function query(req: FastifyRequest): Record<string, string | undefined> {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(q)) out[k] = Array.isArray(v) ? String(v[v.length - 1]) : typeof v === 'string' ? v : undefined;
  return out;
}

function channelHeader(channel: store.ChannelRow): string {
  const image = channel.profile_image_url ? `<img src="${escapeHtml(channel.profile_image_url)}" alt="" width="56" height="56" style="border-radius:18px;float:right">` : '';
  return `${image}<h1 id="channel-name">${escapeHtml(channel.name)}</h1><p class="sub">Kakao Talk Channel <code>${escapeHtml(channel.search_id)}</code> · <code>${escapeHtml(channel.public_id)}</code></p>`;
}

function relationText(relation: store.Relation): string {
  return relation === 'ADDED' ? 'You have added this channel.' : relation === 'BLOCKED' ? 'You have blocked this channel.' : 'You have not added this channel yet.';
}

async function mustChannel(req: FastifyRequest, publicId: string): Promise<store.ChannelRow> {
  const channel = /^_[A-Za-z0-9]{1,64}$/.test(publicId) ? await store.findChannelByPublicId(req.server.platform.db, publicId) : undefined;
  if (!channel) throw new PageError(404, errorPage('404', `There is no Kakao Talk Channel ${publicId}.`));
  return channel;
}

/** The signed-in person, or a redirect through the sign-in page back to this page's GET. */
async function personOr(req: FastifyRequest, reply: FastifyReply, back: string): Promise<SignedIn | undefined> {
  const person = await signedInPerson(req.server.platform, req);
  if (!person) {
    reply.header('cache-control', 'no-store').redirect(loginUrlFor(back), 302);
    return undefined;
  }
  return person;
}

function pathWithQuery(req: FastifyRequest): string {
  return req.url;
}

export async function channelPages(app: FastifyInstance): Promise<void> {
  const platform = app.platform;

  // Add channel (Kakao.Channel.addChannel; pf.kakao.com/<public id>/friend).
  app.get<{ Params: { public_id: string } }>('/:public_id/friend', async (req, reply) => {
    const channel = await mustChannel(req, req.params.public_id);
    const person = await personOr(req, reply, pathWithQuery(req));
    if (!person) return reply;
    return sendFriendPage(req, reply, channel, person, false);
  });
  app.post<{ Params: { public_id: string } }>('/:public_id/friend', async (req, reply) => {
    const channel = await mustChannel(req, req.params.public_id);
    const back = `/${channel.public_id}/friend`;
    const person = await personOr(req, reply, back);
    if (!person) return reply;
    await checkToken(req, 'channel-friend', channel, formFields(req).csrf_token);
    const added = await writtenAsAfterDeletes(
      () => addChannel(platform, channel.id, person.account.id),
      async () => (await mustChannel(req, req.params.public_id)) && (await personOr(req, reply, back)) !== undefined,
    );
    if (!added) return reply;
    return sendFriendPage(req, reply, channel, person, true);
  });

  async function sendFriendPage(req: FastifyRequest, reply: FastifyReply, channel: store.ChannelRow, person: SignedIn, justAdded: boolean) {
    const relation = (await store.relationOf(platform.db, channel.id, person.account.id))?.relation ?? 'NONE';
    const token = await tokenFor(req, reply, 'channel-friend', channel);
    const action =
      relation === 'ADDED'
        ? `<p class="sub" id="added">${justAdded ? 'Channel added.' : ''}</p><div class="actions"><a href="/${escapeHtml(channel.public_id)}/chat" id="chat-link">Chat with the channel</a></div>`
        : `<form method="post" action="/${escapeHtml(channel.public_id)}/friend" id="add-channel">${hidden('csrf_token', token)}
<div class="actions"><button class="primary" type="submit" id="add-button">${relation === 'BLOCKED' ? 'Unblock and add channel' : 'Add channel'}</button></div></form>`;
    return send(
      reply,
      200,
      layout(
        `${channel.name} - Kakao Talk Channel`,
        `${channelHeader(channel)}<p class="sub">Signed in as <strong id="signed-in-as">${escapeHtml(person.account.nickname)}</strong></p>
<p id="relation" data-relation="${relation}">${escapeHtml(relationText(relation))}</p>${action}`,
      ),
    );
  }

  // Chat with the channel (Kakao.Channel.chat; pf.kakao.com/<public id>/chat).
  app.get<{ Params: { public_id: string } }>('/:public_id/chat', async (req, reply) => {
    const channel = await mustChannel(req, req.params.public_id);
    const person = await personOr(req, reply, pathWithQuery(req));
    if (!person) return reply;
    return sendChatPage(req, reply, channel, person, 200);
  });
  app.post<{ Params: { public_id: string } }>('/:public_id/chat', async (req, reply) => {
    const channel = await mustChannel(req, req.params.public_id);
    const back = `/${channel.public_id}/chat`;
    const person = await personOr(req, reply, back);
    if (!person) return reply;
    const form = formFields(req);
    await checkToken(req, 'channel-chat', channel, form.csrf_token);
    const relation = (await store.relationOf(platform.db, channel.id, person.account.id))?.relation ?? 'NONE';
    const text = (form.text ?? '').trim();
    if (relation === 'BLOCKED') return sendChatPage(req, reply, channel, person, 403, 'You blocked this channel: unblock it (add it again) to chat.');
    // eslint-disable-next-line no-control-regex
    if (!text || text.length > CHAT_TEXT_MAX || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) return sendChatPage(req, reply, channel, person, 400, `Write a message of 1 to ${CHAT_TEXT_MAX} characters, without control characters.`);
    const posted = await writtenAsAfterDeletes(
      async () => store.addChatMessage(platform.db, await newId(platform.db), channel.id, person.account.id, text, platform.clock.now()),
      async () => (await mustChannel(req, req.params.public_id)) && (await personOr(req, reply, back)) !== undefined,
    );
    if (!posted) return reply;
    return reply.header('cache-control', 'no-store').redirect(`/${channel.public_id}/chat`, 303);
  });

  async function sendChatPage(req: FastifyRequest, reply: FastifyReply, channel: store.ChannelRow, person: SignedIn, status: number, error?: string) {
    const messages = await store.chatMessages(platform.db, channel.id, person.account.id, CHAT_SHOWN);
    const relation = (await store.relationOf(platform.db, channel.id, person.account.id))?.relation ?? 'NONE';
    const token = await tokenFor(req, reply, 'channel-chat', channel);
    const list = messages.map((m) => `<li data-message-id="${m.id}"><span>${escapeHtml(m.text)}</span> <small class="tag">${isoSeconds(m.createdAt)}</small></li>`).join('');
    return send(
      reply,
      status,
      layout(
        `${channel.name} - chat`,
        `${channelHeader(channel)}<p class="sub">Chat as <strong id="signed-in-as">${escapeHtml(person.account.nickname)}</strong> · <span id="relation" data-relation="${relation}">${escapeHtml(relationText(relation))}</span>${relation === 'ADDED' ? '' : ` <a href="/${escapeHtml(channel.public_id)}/friend">Add channel</a>`}</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<ul id="messages">${list || '<li class="sub">No messages yet.</li>'}</ul>
<form method="post" action="/${escapeHtml(channel.public_id)}/chat" id="chat-form">${hidden('csrf_token', token)}
<label for="text">Message</label><input type="text" id="text" name="text" maxlength="${CHAT_TEXT_MAX}" required>
<div class="actions"><button class="primary" type="submit">Send</button></div></form>`,
      ),
    );
  }

  // Follow channel (Kakao.Channel.followChannel; apps.kakao.com/talk/channel/follow).
  app.get(FOLLOW_PATH, async (req, reply) => {
    const q = query(req);
    const { app: target, channel } = await followRequest(q);
    let person = q.agt ? await personByAgt(platform, req, reply, q.agt, target.id) : undefined;
    // The AGT is single use: once it signed the person in, the page goes on with the session.
    if (q.agt) {
      const rest = new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[0] !== 'agt' && e[1] !== undefined));
      if (person) return reply.header('cache-control', 'no-store').redirect(`${FOLLOW_PATH}?${rest}`, 302);
    }
    person ??= await signedInPerson(platform, req);
    if (!person) return reply.header('cache-control', 'no-store').redirect(loginUrlFor(req.url), 302);
    const relation = (await store.relationOf(platform.db, channel.id, person.account.id))?.relation ?? 'NONE';
    if (relation === 'ADDED') return sendFollowResult(reply, target, channel, q, 'success');
    const token = await tokenFor(req, reply, 'channel-follow', channel);
    const carried = Object.entries(q)
      .filter((e): e is [string, string] => e[1] !== undefined && e[0] !== 'agt')
      .map(([k, v]) => hidden(k, v))
      .join('');
    return send(
      reply,
      200,
      layout(
        `${channel.name} - follow`,
        `${channelHeader(channel)}<p class="sub"><strong>${escapeHtml(target.name)}</strong> asks you to add this channel. Signed in as <strong id="signed-in-as">${escapeHtml(person.account.nickname)}</strong>.</p>
<p id="relation" data-relation="${relation}">${escapeHtml(relationText(relation))}</p>
<form method="post" action="${FOLLOW_PATH}" id="follow">${carried}${hidden('csrf_token', token)}
<div class="actions"><button class="secondary" type="submit" name="action" value="cancel">Cancel</button>
<button class="primary" type="submit" name="action" value="follow" id="follow-button">Add channel</button></div></form>`,
      ),
      // The answer to the form is a redirect to the app's redirect_uri, when the request names one.
      policy({ formTargets: q.redirect_uri ? [redirectSource(q.redirect_uri)].filter((t): t is string => t !== undefined) : [] }),
    );
  });
  app.post(FOLLOW_PATH, async (req, reply) => {
    const form = formFields(req);
    const { app: target, channel } = await followRequest(form);
    const signedIn = async () => {
      const person = await signedInPerson(platform, req);
      if (!person) reply.header('cache-control', 'no-store').redirect(loginUrlFor(`${FOLLOW_PATH}?${followQuery(form)}`), 303);
      return person;
    };
    const person = await signedIn();
    if (!person) return reply;
    await checkToken(req, 'channel-follow', channel, form.csrf_token);
    if (form.action !== 'follow') return sendFollowResult(reply, target, channel, form, 'fail');
    const added = await writtenAsAfterDeletes(
      () => addChannel(platform, channel.id, person.account.id),
      async () => (await followRequest(form)) && (await signedIn()) !== undefined,
    );
    if (!added) return reply;
    return sendFollowResult(reply, target, channel, form, 'success');
  });

  async function followRequest(q: Record<string, string | undefined>): Promise<{ app: App; channel: store.ChannelRow }> {
    const found = q.app_key ? await platform.directory.appByKey(q.app_key) : undefined;
    if (!found || found.keyType === 'admin' || found.keyType === 'rest_api') {
      throw new PageError(400, errorPage('KAE001', `app_key ${q.app_key ?? '(missing)'} is not a JavaScript or native app key of any app.`));
    }
    const channel = q.channel_public_id ? await store.findChannelByPublicId(platform.db, q.channel_public_id) : undefined;
    if (!channel) throw new PageError(400, errorPage('KAE003', `There is no Kakao Talk Channel ${q.channel_public_id ?? '(missing channel_public_id)'}.`));
    if (!(await store.isLinked(platform.db, channel.id, found.app.id))) {
      throw new PageError(400, errorPage('KAE004', `Channel ${channel.public_id} is not linked to app ${found.app.id}.`));
    }
    if (q.redirect_uri !== undefined && !found.app.redirectUris.includes(q.redirect_uri)) {
      throw new PageError(400, errorPage('KAE005', `redirect_uri ${q.redirect_uri} is not registered for app ${found.app.id}.`));
    }
    return { app: found.app, channel };
  }

  /** The SDK's result `{status, channelPublicId}`: to the registered redirect_uri, or posted to the opener window. */
  function sendFollowResult(reply: FastifyReply, target: App, channel: store.ChannelRow, q: Record<string, string | undefined>, status: 'success' | 'fail') {
    if (q.redirect_uri) {
      const url = new URL(q.redirect_uri);
      url.searchParams.set('status', status);
      url.searchParams.set('channel_public_id', channel.public_id);
      if (q.trans_id) url.searchParams.set('trans_id', q.trans_id);
      if (q.state) url.searchParams.set('state', q.state);
      return reply.header('cache-control', 'no-store').redirect(url.toString(), 302);
    }
    const result = JSON.stringify({ status, channelPublicId: channel.public_id, ...(q.trans_id ? { transId: q.trans_id } : {}) }).replace(/</g, '\\u003c');
    const origins = JSON.stringify(jsResultOrigins(target.webDomains, q.ka)).replace(/</g, '\\u003c');
    const script = `(function(){var r=${result},o=${origins};if(window.opener)for(var i=0;i<o.length;i++){try{window.opener.postMessage(r,o[i]);}catch(e){}}})();`;
    return send(
      reply,
      200,
      layout(
        'Kakao Talk Channel',
        `${channelHeader(channel)}<p id="follow-result" data-status="${status}">${status === 'success' ? 'Channel added.' : 'Channel not added.'}</p>
<script>${script}</script>`,
      ),
      policy({ scripts: [script] }),
    );
  }
}

function followQuery(q: Record<string, string | undefined>): string {
  return new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined && e[0] !== 'csrf_token' && e[0] !== 'action')).toString();
}
