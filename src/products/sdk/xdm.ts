/**
 * The two pages Kakao's JavaScript SDK v1 frames through easyXDM's postMessage transport
 * (`xdm_p=1`): kapi `/cors/` runs its API calls, kauth's login widget relays login results
 * and exchanges codes. Written here from how SDK v1 speaks to them (docs/browser-sdk.md):
 *
 * - the page tells its parent `<channel>-ready`, then both sides exchange
 *   `<channel> <JSON-RPC 2.0 message>` strings. The page says it as its script runs, again
 *   when it has loaded, and the login widget again before it relays a popup's result: SDK
 *   v1 reads nothing before it has seen a ready, and ignores one after the first. In CI
 *   runs the parent sometimes never received the first one (the login popup's answer
 *   arrived, the callbacks never ran): a message posted while the frame is still loading
 *   can be lost by the browser;
 * - the parent calls `request(config)` (/cors/) or `getCode` / `getAccessToken` (widget) with
 *   an id, and gets `{id, result}` or `{id, error: {code: -32099, message}}` back; unknown
 *   methods get `-32601 Procedure not found.`;
 * - the widget calls the parent's `postResponse(result)` (a notification, no id).
 *
 * Messages are accepted only from the parent window on the origin the page was loaded for
 * (`xdm_e`: any http(s) origin for /cors/, a registered web domain of some app for the
 * login widget) and posted only to that origin; the server lets only
 * that origin frame the page (CSP frame-ancestors). The scripts are constants (the page's CSP
 * allows them by hash); the page's data sits in a JSON block that is never executed.
 */

/** Shared by both pages: the channel, JSON-RPC dispatch and same-origin XHR to Kapibara. */
const RPC = `
var cfg=JSON.parse(document.getElementById('xdm').textContent);
var remote=cfg.remote,channel=cfg.channel;
function post(m){m.jsonrpc='2.0';parent.postMessage(channel+' '+JSON.stringify(m),remote);}
function serve(local){
window.addEventListener('message',function(e){
if(e.source!==parent||e.origin!==remote||typeof e.data!=='string'||e.data.indexOf(channel+' ')!==0)return;
var call;try{call=JSON.parse(e.data.slice(channel.length+1));}catch(x){return;}
if(!call||typeof call.method!=='string')return;
var id=call.id;
var ok=function(r){if(id!==undefined)post({id:id,result:r});};
var fail=function(m){if(id!==undefined)post({id:id,error:{code:-32099,message:m}});};
if(!Object.prototype.hasOwnProperty.call(local,call.method)){if(id!==undefined)post({id:id,error:{code:-32601,message:'Procedure not found.'}});return;}
var params=Array.isArray(call.params)?call.params:[call.params];
try{local[call.method].apply(null,params.concat([ok,fail]));}catch(x){fail(String(x&&x.message||x));}
});
ready();
if(document.readyState!=='complete')window.addEventListener('load',ready);
}
function ready(){parent.postMessage(channel+'-ready',remote);}
function qs(data){var p=[];for(var k in data)if(Object.prototype.hasOwnProperty.call(data,k)&&data[k]!==undefined&&data[k]!==null){var v=data[k];p.push(encodeURIComponent(k)+'='+encodeURIComponent(typeof v==='object'?JSON.stringify(v):String(v)));}return p.join('&');}
function xhr(method,path,headers,body,done){
var x=new XMLHttpRequest();x.open(method,path);
for(var h in headers)if(Object.prototype.hasOwnProperty.call(headers,h))x.setRequestHeader(h,headers[h]);
x.onload=function(){done(x.status,x.responseText);};
x.onerror=function(){done(0,'');};
x.send(body);
}
function parsed(text){if(text==='')return {};try{return JSON.parse(text);}catch(e){return undefined;}}
`;

/**
 * /cors/: runs `request(config)` for SDK v1's Kakao.API.request, Link.uploadImage and mobile
 * share validation. Only Kakao API paths on this origin (`/v1/…`, `/v2/…`, no dot segments:
 * every path SDK v1 sends): the page runs requests for another origin's page, which must not
 * reach the control plane, the console or the login forms through it (core/security.ts
 * refuses those from this page as well); only the headers the SDK sends; the KA
 * header's `origin/` is always the framing page's real origin (written when the page sent
 * no KA, replacing any it named): the page may be on any origin (pages.ts), and kapi judges
 * a JavaScript key by that origin. 200 resolves with the parsed
 * body (`{}` when empty); anything else fails with `{status, responseText}` (the SDK reads `responseText`).
 */
export const CORS_PROXY_SCRIPT = `(function(){${RPC}
var HEADERS=['KA','Authorization','Cache-Control','Pragma'];
function request(config,ok,fail){
if(!config||typeof config.url!=='string'||!/^\\/v[12]\\/[A-Za-z0-9_\\/-]*(\\?[^#]*)?$/.test(config.url)||config.url.indexOf('//')>=0){fail({status:400,responseText:JSON.stringify({msg:'the proxy calls only Kakao API paths (/v1/..., /v2/...) of this origin',code:-2})});return;}
var method=String(config.method||'get').toUpperCase();
if(['GET','POST','DELETE','PUT'].indexOf(method)<0){fail({status:400,responseText:JSON.stringify({msg:'unsupported method '+method,code:-2})});return;}
var headers={};var given=config.headers||{};
for(var i=0;i<HEADERS.length;i++){var v=given[HEADERS[i]];if(typeof v==='string')headers[HEADERS[i]]=v;}
headers.KA=((headers.KA||'').replace(/(^|\\s)origin\\/\\S*/g,'')+' origin/'+encodeURIComponent(remote)).replace(/^\\s+/,'');
var data=config.data||{};var url=config.url;var body=null;
if(config.file&&config.file.data){
var form=new FormData();
for(var k in data)if(Object.prototype.hasOwnProperty.call(data,k)&&k!=='file')form.append(k,String(data[k]));
var files=config.file.data;
for(var j=0;j<files.length;j++){var s=String(files[j].str||'');var bytes=new Uint8Array(s.length);for(var b=0;b<s.length;b++)bytes[b]=s.charCodeAt(b)&255;
form.append(config.file.paramName||'file',new Blob([bytes],{type:files[j].type||'application/octet-stream'}),files[j].name||'file');}
body=form;
}else if(method==='GET'||method==='DELETE'){var q=qs(data);if(q)url+=(url.indexOf('?')<0?'?':'&')+q;}
else{headers['Content-Type']='application/x-www-form-urlencoded;charset=utf-8';body=qs(data);}
xhr(method,url,headers,body,function(status,text){
var json=parsed(text);
if(status===200&&json!==undefined)ok(json);else fail({status:status,responseText:text});
});
}
serve({request:request});
})();`;

/**
 * kauth's login widget: SDK v1's login proxy. `getCode` polls /apiweb/code.json (Kakao Talk
 * login), `getAccessToken` exchanges a code at /oauth/token; both answer through the
 * parent's `postResponse`. The login popup (redirect_uri=kakaojs, login product) hands its
 * result to `window.postResponse`, which relays it the same way.
 */
export const LOGIN_WIDGET_SCRIPT = `(function(){${RPC}
var ka='os/javascript';
function respond(r){post({method:'postResponse',params:[r]});}
function answer(status,text){var j=parsed(text);return j!==undefined?j:{error:'server_error',error_description:'unexpected answer (HTTP '+status+')'};}
window.postResponse=function(r){if(r&&typeof r==='object'){ready();respond(r);}};
serve({
getCode:function(stateToken,appKey,agent,ok){if(typeof agent==='string')ka=agent;
xhr('GET','/apiweb/code.json?'+qs({client_id:appKey,auth_tran_id:stateToken,ka:ka}),{},null,function(s,t){respond(answer(s,t));});ok(true);},
getAccessToken:function(code,appKey,redirectUri,approvalType,ok){
if(typeof approvalType==='function'){ok=approvalType;approvalType=undefined;}
xhr('POST','/oauth/token',{'Content-Type':'application/x-www-form-urlencoded;charset=utf-8',KA:ka},qs({grant_type:'authorization_code',client_id:appKey,code:code,redirect_uri:redirectUri,approval_type:approvalType,client_origin:remote}),function(s,t){respond(answer(s,t));});
if(typeof ok==='function')ok(true);}
});
})();`;
