import { createHash } from 'node:crypto';
import { html, raw, type RawHtml } from '../../core/html.js';
import type { Account } from '../../core/model.js';
import { renderTemplate } from '../message/index.js';
import type { Picker, Sent } from './share.js';

/**
 * The sharer's pages: the picker (preview, "me", group chats, friends; one or several
 * chats), the page that tells the opener the message was sent, and the failure page. Every
 * page carries a strict policy: only its own inline style and script (by hash), images from
 * anywhere (the message's own), forms only to this origin, no framing.
 */

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Apple SD Gothic Neo","Malgun Gothic",sans-serif;background:#fff;color:#191919;font-size:15px}
.app{max-width:520px;margin:0 auto;min-height:100vh;display:flex;flex-direction:column;background:#fff}
.top{position:sticky;top:0;z-index:2;background:#fee500;padding:12px 16px;display:flex;align-items:center;gap:10px}
.top h1{font-size:17px;margin:0;font-weight:700;flex:1}
.top .who{font-size:12px;color:#3c1e1e}
.preview{background:#b2c7da;padding:14px 16px}
.preview .from{font-size:12px;color:#33414f;margin-bottom:6px}
.bubble{background:#fff;border-radius:4px 14px 14px 14px;padding:10px 12px;max-width:300px;box-shadow:0 1px 1px rgba(0,0,0,.08);font-size:14px;overflow:hidden}
.bubble .pill{display:inline-block;background:#f2f2f2;border-radius:6px;padding:6px 10px;margin:6px 4px 0 0;font-size:13px}
.bubble>.pill:first-child{display:none}
.card{margin:6px 0}.card img{width:100%;max-height:180px;object-fit:cover;border-radius:6px;display:block;margin-bottom:6px}
.card a.muted{display:none}
.muted{color:#8a8a8a;font-size:12px}
.search{padding:10px 16px;border-bottom:1px solid #f0f0f0}
.search input{width:100%;padding:9px 12px;border-radius:18px;border:0;background:#f3f3f3;font:inherit;font-size:14px}
.list{flex:1;padding:0 0 84px}
.list h2{font-size:12px;color:#8a8a8a;font-weight:600;margin:14px 16px 4px}
.row{display:flex;align-items:center;gap:12px;padding:8px 16px;cursor:pointer}
.row:hover{background:#fafafa}
.avatar{width:42px;height:42px;border-radius:16px;background:#d9e1e8;display:flex;align-items:center;justify-content:center;font-weight:700;color:#5a6b7b;flex:none;overflow:hidden}
.avatar img{width:42px;height:42px;object-fit:cover}
.avatar.me{background:#fee500;color:#3c1e1e}.avatar.group{background:#c9d6c3;color:#3f5a36}
.name{flex:1;min-width:0}.name strong{display:block;font-weight:500;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.name small{color:#8a8a8a;font-size:12px}
.row input{appearance:none;-webkit-appearance:none;width:22px;height:22px;border-radius:50%;border:1.5px solid #c8c8c8;margin:0;flex:none;display:grid;place-content:center}
.row input:checked{background:#fee500;border-color:#fee500}
.row input:checked::after{content:"";width:9px;height:5px;border-left:2px solid #3c1e1e;border-bottom:2px solid #3c1e1e;transform:rotate(-45deg) translate(1px,-1px)}
.bar{position:fixed;bottom:0;left:0;right:0;background:#fff;border-top:1px solid #eee;padding:12px 16px}
.bar .in{max-width:488px;margin:0 auto;display:flex;gap:12px;align-items:center}
.bar .count{flex:1;font-size:13px;color:#555}
button{font:inherit;cursor:pointer;border:0;border-radius:8px;padding:12px 22px;font-weight:600}
.send{background:#fee500;color:#191919}.send:disabled{background:#f3f3f3;color:#b5b5b5;cursor:default}
.error{background:#fdecea;color:#b3261e;padding:10px 12px;border-radius:8px;margin:12px 16px;font-size:14px}
.notice{padding:40px 24px;text-align:center}.notice h1{font-size:19px}.notice p{color:#555}
.notice code{background:#f3f3f3;padding:2px 5px;border-radius:4px;word-break:break-all}
[hidden]{display:none!important}
.pad{padding:0 16px}
@media (max-width:480px){.bubble{max-width:100%}}`;

const PICKER_SCRIPT = `(function(){
var form=document.getElementById('picker');var send=document.getElementById('send');var count=document.getElementById('count');
function update(){var n=form.querySelectorAll('input[name=receiver]:checked').length;send.disabled=n===0;count.textContent=n===0?'Pick chats to share to':n+' selected';}
form.addEventListener('change',update);update();
var q=document.getElementById('q');q.addEventListener('input',function(){var t=q.value.trim().toLowerCase();
form.querySelectorAll('.row').forEach(function(r){r.hidden=t!==''&&r.getAttribute('data-name').toLowerCase().indexOf(t)<0;});});
form.addEventListener('submit',function(){send.disabled=true;});
})();`;

const SENT_SCRIPT = `(function(){
var data=JSON.parse(document.getElementById('sent-data').textContent);
if(window.opener&&data.origin){try{window.opener.postMessage('sent',data.origin);}catch(e){}}
setTimeout(function(){window.close();},data.origin?300:1500);
})();`;

function hash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The Content-Security-Policy of a sharer page with this inline script (if any). */
export function sharerPolicy(script?: string): string {
  return [
    "default-src 'none'",
    `style-src ${hash(STYLE)}`,
    script ? `script-src ${hash(script)}` : undefined,
    'img-src http: https: data:',
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ]
    .filter(Boolean)
    .join('; ');
}

export const PICKER_POLICY = sharerPolicy(PICKER_SCRIPT);
export const SENT_POLICY = sharerPolicy(SENT_SCRIPT);
export const PLAIN_POLICY = sharerPolicy();

function shell(title: string, body: RawHtml, script?: string): string {
  return html`<!doctype html><html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>${raw(STYLE)}</style></head><body>${body}${script ? html`<script>${raw(script)}</script>` : ''}</body></html>`.html;
}

function initial(name: string): string {
  return [...name][0] ?? '?';
}

function row(value: string, name: string, sub: string, avatar: RawHtml, checked = false): RawHtml {
  return html`<label class="row" data-name="${name}"><span class="avatar${value === 'me' ? ' me' : value.startsWith('g') ? ' group' : ''}">${avatar}</span>
<span class="name"><strong>${name}</strong>${sub ? html`<small>${sub}</small>` : ''}</span>
<input type="checkbox" name="receiver" value="${value}" data-receiver="${value}"${raw(checked ? ' checked' : '')}></label>`;
}

export function pickerPage(p: Picker, person: Account, shortKey: string, memberNames: Map<number, string>, error?: string): string {
  const me = row('me', person.nickname, 'Me · chat with myself', html`${initial(person.nickname)}`);
  const groups = p.groups.map((g) => {
    const others = g.memberAccountIds.filter((id) => id !== person.id).map((id) => memberNames.get(id) ?? String(id));
    return row(`g${g.id}`, g.title, `${g.memberAccountIds.length} members · ${others.join(', ')}`, html`${initial(g.title)}`);
  });
  const friends = p.friends.map((f) =>
    row(`f${f.accountId}`, f.nickname, f.favorite ? 'Favorite' : '', f.thumbnailUrl ? html`<img src="${f.thumbnailUrl}" alt="">` : html`${initial(f.nickname)}`),
  );
  const body = html`<div class="app">
<div class="top"><h1>Share to KakaoTalk</h1><span class="who" id="signed-in-as">${person.nickname}</span></div>
<div class="preview" id="preview"><div class="from">${p.app.name}</div>${renderTemplate(p.template)}</div>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/picker/send" id="picker">
<input type="hidden" name="short_key" value="${shortKey}"><input type="hidden" name="_csrf" value="${p.formToken}">
<div class="search"><input type="search" id="q" placeholder="Search by name" aria-label="Search by name" autocomplete="off"></div>
<div class="list">
<h2>Me</h2>${me}
${groups.length ? html`<h2>Group chats ${groups.length}</h2>${groups}` : ''}
<h2>Friends ${friends.length}</h2>${friends.length ? friends : html`<p class="muted pad">No Kakao Talk friends yet.</p>`}
</div>
<div class="bar"><div class="in"><span class="count" id="count">Pick chats to share to</span><button class="send" type="submit" id="send">Send</button></div></div>
</form></div>`;
  return shell('Share to KakaoTalk', body, PICKER_SCRIPT);
}

export function sentPage(s: Sent): string {
  const data = JSON.stringify({ origin: s.openerOrigin }).replace(/</g, '\\u003c');
  const body = html`<div class="app"><div class="top"><h1>Share to KakaoTalk</h1></div>
<div class="notice" id="sent"><h1>Sent</h1><p>The message was sent to ${s.chats.map((c) => c.title).join(', ')}.</p><p class="muted">This window closes by itself.</p></div></div>
<script type="application/json" id="sent-data">${raw(data)}</script>`;
  return shell('Sent', body, SENT_SCRIPT);
}

/** The sharer's failure page ("Failed request"), with Kakao's code and message. */
export function failurePage(code: number | string, msg: string): string {
  const body = html`<div class="app"><div class="top"><h1>Share to KakaoTalk</h1></div>
<div class="notice"><h1>Failed request</h1><p>Verification failed due to an incorrect request.</p>
<p><code id="error-code">${String(code)}</code> <span id="error-msg">${msg}</span></p></div></div>`;
  return shell('Failed request', body);
}
