import type { App } from '../../core/model.js';
import { isAllowedUrlText } from '../../core/fetcher.js';
import type { Json } from '../message/index.js';

/**
 * `template_msg`, the rendered message object validation answers (products notes §1.2):
 * `P` (the app and its main link) and `C` (the content blocks), with Kakao's short keys
 * where the captured fixtures show them (TP, SID, DID, SNM, L with LPC/LMO/LCA/LCI, THC/THL,
 * TI/TD, SO, BUL/BU, CMC, HD/ITL). Blocks the fixtures do not show (item content, location,
 * scrap) use keys of the same style, named in docs/sharing.md.
 *
 * Web links outside the app's web domains are dropped, each with a `warning_msg` entry keyed
 * by where it would have been in `template_msg` (`C.BUL[0].L.LPC`), in the captured wording.
 */

export interface Rendered {
  templateMsg: Json;
  warnings: Record<string, string>;
}

const dropWarning = (url: string) => `${url}. app does not have DOMAIN_CHECK_PASS permission. get the permission or it will be dropped.`;

/** Minimum Kakao Talk versions that show a 4.0 message (captured fixture values). */
const VERSIONS = { VA: '6.0.0', VI: '5.9.8', VW: '2.5.1', VM: '2.2.0' };

class MessageRenderer {
  readonly warnings: Record<string, string> = {};
  constructor(private readonly app: App) {}

  link(link: Json | undefined, path: string): Json {
    const out: Json = {};
    if (!link) return out;
    const web = (key: 'web_url' | 'mobile_web_url', short: string) => {
      const url = link[key];
      if (typeof url !== 'string') return;
      if (isAllowedUrlText(url, this.app.webDomains)) out[short] = url;
      else this.warnings[`${path}.${short}`] = dropWarning(url);
    };
    web('web_url', 'LPC');
    web('mobile_web_url', 'LMO');
    const scheme = `kakao${this.app.keys.native}://kakaolink`;
    if (typeof link.android_execution_params === 'string') out.LCA = `${scheme}?${link.android_execution_params}`;
    if (typeof link.ios_execution_params === 'string') out.LCI = `${scheme}?${link.ios_execution_params}`;
    return out;
  }

  thumbnail(c: Json): Json | undefined {
    if (typeof c.image_url !== 'string') return undefined;
    const th: Json = { THU: c.image_url };
    if (typeof c.image_width === 'number') th.W = c.image_width;
    if (typeof c.image_height === 'number') th.H = c.image_height;
    return th;
  }

  titleBlock(c: Json, path: string): Json {
    const td: Json = {};
    if (typeof c.title === 'string') td.T = c.title;
    if (typeof c.description === 'string') td.D = c.description;
    return { TD: td, L: this.link(c.link as Json | undefined, `${path}.L`) };
  }

  buttons(t: Json, extra: Json[] = []): Json[] | undefined {
    const list = Array.isArray(t.buttons) ? (t.buttons as Json[]) : [];
    const out: Json[] = list.map((b, i) => ({ BU: { T: b.title }, L: this.link(b.link as Json | undefined, `C.BUL[${i}].L`) }));
    out.push(...extra);
    return out.length ? out : undefined;
  }

  social(t: Json): Json | undefined {
    const s = t.social as Json | undefined;
    if (!s) return undefined;
    const n = (k: string) => (typeof s[k] === 'number' ? s[k] : 0);
    return { LK: n('like_count'), CM: n('comment_count'), SH: n('shared_count'), VC: n('view_count'), SB: n('subscriber_count') };
  }
}

function compact(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The main link of a message: where a tap on it goes. */
function mainLink(t: Json): Json | undefined {
  switch (t.object_type) {
    case 'list':
      return t.header_link as Json | undefined;
    case 'text':
      return t.link as Json | undefined;
    case 'scrap':
      return { web_url: t.request_url, mobile_web_url: t.request_url };
    default:
      return (t.content as Json | undefined)?.link as Json | undefined;
  }
}

function origin(domain: string | undefined): string | undefined {
  if (!domain) return undefined;
  if (domain.includes('://')) {
    try {
      return new URL(domain).origin;
    } catch {
      return undefined;
    }
  }
  return `http://${domain}`;
}

export function renderTemplateMsg(app: App, t: Json): Rendered {
  const r = new MessageRenderer(app);
  const type = t.object_type as string;
  const P: Json = compact({
    TP: type === 'list' ? 'List' : type === 'commerce' ? 'Commerce' : 'Feed',
    ME: '${ME}',
    SID: `capri_${app.id}`,
    DID: origin(app.webDomains[0]),
    SNM: app.name,
    L: r.link(mainLink(t), 'P.L'),
    ...VERSIONS,
    FW: true,
    RF: 'out-client',
  });
  const C: Json = {};
  const content = t.content as Json | undefined;
  switch (type) {
    case 'list': {
      C.HD = { TD: { T: t.header_title }, L: r.link(t.header_link as Json | undefined, 'C.HD.L') };
      C.ITL = (t.contents as Json[]).map((c, i) => compact({ ...r.titleBlock(c, `C.ITL[${i}]`), TH: r.thumbnail(c) }));
      break;
    }
    case 'text': {
      C.TI = { TD: { T: t.text }, L: r.link(t.link as Json | undefined, 'C.TI.L'), FT: true };
      break;
    }
    case 'scrap': {
      const th = r.thumbnail(t);
      if (th) {
        C.THC = 1;
        C.THL = [{ TH: th, L: r.link(mainLink(t), 'C.THL[0].L') }];
      }
      C.TI = r.titleBlock({ title: t.title, description: t.description, link: mainLink(t) }, 'C.TI');
      C.SC = compact({ U: t.url, H: t.host, SN: t.site_name });
      break;
    }
    default: {
      if (!content) break;
      const th = r.thumbnail(content);
      if (th) {
        C.THC = 1;
        C.THL = [{ TH: th, L: r.link(content.link as Json | undefined, 'C.THL[0].L') }];
      }
      C.TI = r.titleBlock(content, 'C.TI');
    }
  }
  if (type === 'feed' && t.item_content) {
    const ic = t.item_content as Json;
    C.IC = compact({
      PF: ic.profile_text !== undefined || ic.profile_image_url !== undefined ? compact({ T: ic.profile_text, THU: ic.profile_image_url }) : undefined,
      TI: ic.title_image_text !== undefined || ic.title_image_url !== undefined ? compact({ T: ic.title_image_text, C: ic.title_image_category, THU: ic.title_image_url }) : undefined,
      ITS: Array.isArray(ic.items) ? (ic.items as Json[]).map((i) => ({ T: i.item, D: i.item_op })) : undefined,
      SUM: ic.sum !== undefined || ic.sum_op !== undefined ? compact({ T: ic.sum, D: ic.sum_op }) : undefined,
    });
  }
  if (type === 'commerce' && t.commerce) {
    const c = t.commerce as Json;
    C.CMC = compact({
      PN: c.product_name,
      RP: c.regular_price,
      DP: c.discount_price,
      DR: c.discount_rate,
      FDP: c.fixed_discount_price,
      CU: c.currency_unit ?? '원',
      CP: c.currency_unit_position ?? 0,
    });
  }
  const so = r.social(t);
  if (so) C.SO = so;
  const extra: Json[] = [];
  if (type === 'location') {
    C.LOC = compact({ A: t.address, AT: t.address_title });
    const q = encodeURIComponent(String(t.address));
    extra.push({ BU: { T: '위치 보기' }, L: { LCA: `kakaomap://search?q=${q}`, LCI: `kakaomap://search?q=${q}`, LPC: `https://map.kakao.com/link/search/${q}`, LMO: `https://map.kakao.com/link/search/${q}` } });
  }
  const bul = r.buttons(t, extra);
  if (bul) C.BUL = bul;
  return { templateMsg: { P, C }, warnings: r.warnings };
}

const ORDINALS = ['FIRST', 'SECOND', 'THIRD', 'FOURTH', 'FIFTH'];
const ITEM_NAMES: Record<string, string> = { buttons: 'BUTTON', contents: 'CONTENT', items: 'ITEM' };
const TRANSPARENT = new Set(['content', 'social', 'commerce', 'item_content', 'link']);

/**
 * A default template's fields as `template_args` (`${TITLE}`, `${FIRST_BUTTON_TITLE}`…), the
 * shape of the captured answers: the values of the fixed internal template it fills.
 */
export function defaultTemplateArgs(t: Json): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (v: unknown, prefix: string[]) => {
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, [...prefix.slice(0, -1), `${ORDINALS[i] ?? `N${i + 1}`}_${ITEM_NAMES[prefix[prefix.length - 1]] ?? prefix[prefix.length - 1].toUpperCase()}`]));
      return;
    }
    if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v as Json)) walk(x, TRANSPARENT.has(k) ? prefix : [...prefix, k === 'header_link' ? 'header' : k]);
      return;
    }
    if (v === undefined || v === null) return;
    out[`\${${prefix.map((p) => p.toUpperCase()).join('_')}}`] = String(v);
  };
  for (const [k, v] of Object.entries(t)) if (k !== 'object_type') walk(v, TRANSPARENT.has(k) ? [] : [k === 'header_link' ? 'header' : k]);
  return out;
}
