import { escapeHtml } from './html.js';
import { referenceGone } from '../db/dialect.js';

/**
 * The shell of the pages Kapibara serves as Kakao's hosts (login, consent, and later the
 * sharer and channel pages): one small inline style, every value escaped by the caller.
 */

/** The one inline style of these pages (a strict CSP allows it by its hash). */
export const PAGE_STYLE = `
body{font-family:system-ui,-apple-system,"Apple SD Gothic Neo",sans-serif;background:#f5f5f5;margin:0;color:#191919}
main{max-width:420px;margin:40px auto;background:#fff;border-radius:12px;padding:28px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:20px 0 8px}
.sub{color:#666;font-size:13px;margin:0 0 16px}
.error{background:#fdecea;color:#b3261e;padding:10px 12px;border-radius:8px;font-size:14px}
button{font:inherit;cursor:pointer;border:0;border-radius:8px;padding:11px 14px}
.primary{background:#fee500;color:#191919;width:100%;font-weight:600}
.secondary{background:#eee;color:#191919;width:100%}
.person{display:flex;width:100%;justify-content:space-between;background:#fafafa;border:1px solid #e5e5e5;margin:6px 0;text-align:left}
.person small{color:#777}
label{display:block;font-size:13px;margin:10px 0 4px}
input[type=email],input[type=password],input[type=text]{box-sizing:border-box;width:100%;padding:10px;border:1px solid #ccc;border-radius:8px;font:inherit}
ul{list-style:none;padding:0;margin:0}li{padding:6px 0;border-bottom:1px solid #f0f0f0}
li label{display:flex;gap:8px;align-items:center;margin:0;font-size:14px}
.tag{font-size:11px;color:#777;margin-left:auto}
.actions{display:flex;gap:8px;margin-top:20px}
code{background:#f0f0f0;padding:2px 4px;border-radius:4px;word-break:break-all}
a{color:#3c1e1e}
.more{margin-top:16px}`;

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

/** The `page` surface's error page, for errors no product page describes (404, bad requests). */
export function errorPage(code: string, description: string): string {
  return layout(
    `Error ${code}`,
    `<h1>Kakao error</h1><p class="sub">Error code <strong id="error-code">${escapeHtml(code)}</strong></p>
<p class="error" role="alert">${escapeHtml(description)}</p>`,
  );
}

/**
 * A page's write naming what the page checked first (an app, a person, a channel): one
 * deleted while the call was under way has the write refused by its foreign key, and the page
 * answers as it would have after the delete: `checkAgain` runs the page's checks again, and
 * throws their error page or sends their answer (a sign-in page or redirect), returning false.
 * True once written; a refusal that leaves every check passing stands as it was. Shared by the
 * pages of every product (login, channel, story share).
 */
export async function writtenAsAfterDeletes(write: () => Promise<unknown>, checkAgain: () => Promise<boolean>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (referenceGone(err) && !(await checkAgain())) return false;
    throw err;
  }
}
