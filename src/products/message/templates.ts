import { Type } from '@sinclair/typebox';
import { invalidParam } from '../../core/errors.js';
import { jsonParam } from '../../core/params.js';
import { isAllowedUrl, isAllowedUrlText } from '../../core/fetcher.js';

/**
 * Message template objects (seed 001, wire facts §6): validation and normalization. Every
 * violation is -2 with a message naming the field path (`template_object.contents[1].link`).
 * The result is the final template a chat shows: known fields only, default button applied
 * (`buttons` wins over `button_title`; neither: one "자세히 보기" button with the main link).
 */

export type Json = Record<string, unknown>;

export const OBJECT_TYPES = ['feed', 'list', 'location', 'commerce', 'text', 'calendar'] as const;
/** Types a developer can build as a custom template (Message Template Builder, seed 001). */
export const CUSTOM_OBJECT_TYPES = ['feed', 'list', 'commerce', 'location', 'text'] as const;
export const DEFAULT_BUTTON_TITLE = '자세히 보기';
/**
 * A text template's `text`: Kakao documents "up to 200 characters", which is what Kakao Talk
 * shows (the rest behind an ellipsis, TEXT_SHOWN); seed 004's own sample sends 337. A longer
 * text is stored as sent, up to the bound of other free text (a story's 2,048 characters).
 */
export const TEXT_MAX = 2048;
export const TEXT_SHOWN = 200;
const LINK_KEYS = ['web_url', 'mobile_web_url', 'android_execution_params', 'ios_execution_params'] as const;
const SOCIAL_KEYS = ['like_count', 'comment_count', 'shared_count', 'view_count', 'subscriber_count'] as const;

export interface TemplateRules {
  /** The app's registered web domains: web links must be on one of them. */
  webDomains: readonly string[];
  /**
   * A custom template (builder-made): richer limits (list up to 5 items), content title,
   * image and links optional, and an empty string from an absent argument counts as absent.
   */
  custom?: boolean;
  /** Checking a stored custom template: values holding `${KEY}` placeholders pass any type check. */
  placeholders?: boolean;
  /**
   * Web links outside the web domains: refused with -2 (the default: a template saved on the
   * control plane, as the Message Template Builder offers only registered domains), dropped
   * (a message being sent: Kakao sends it without them), or kept for the caller to drop with
   * dropForeignLinks (sharing validation, which also answers each in `warning_msg`).
   */
  foreignLinks?: 'refuse' | 'drop' | 'keep';
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const PLACEHOLDER = /\$\{[^{}]+\}/;

class Checker {
  /** The last URL parsed: a template's links usually repeat one URL field after field. */
  private lastUrl: { text: string; parsed: URL } | undefined;

  constructor(readonly rules: TemplateRules) {}

  private deferred(value: unknown): boolean {
    return this.rules.placeholders === true && typeof value === 'string' && PLACEHOLDER.test(value);
  }

  private absent(value: unknown): boolean {
    return value === undefined || value === null || (this.rules.custom === true && value === '');
  }

  object(value: unknown, path: string): Json {
    if (!isObject(value)) throw invalidParam(`invalid ${path}: must be an object.`);
    return value;
  }

  /** Copies a string field; `max` counts characters. */
  str(src: Json, key: string, path: string, out: Json, opts: { required?: boolean; max?: number } = {}): void {
    const value = src[key];
    if (this.absent(value)) {
      if (opts.required) throw invalidParam(`${path}.${key} is required.`);
      return;
    }
    if (typeof value !== 'string') throw invalidParam(`invalid ${path}.${key}: must be a string.`);
    if (opts.required && value.trim() === '' && !this.rules.custom) throw invalidParam(`${path}.${key} is required.`);
    // A string of at most `max` UTF-16 units has at most `max` characters: only a longer one is counted.
    if (opts.max !== undefined && value.length > opts.max && !this.deferred(value) && [...value].length > opts.max) {
      throw invalidParam(`invalid ${path}.${key}: must be at most ${opts.max} characters.`);
    }
    out[key] = value;
  }

  /** Copies an integer field; a numeric string (from a template argument) is converted. */
  int(src: Json, key: string, path: string, out: Json, opts: { required?: boolean; min?: number; max?: number } = {}): void {
    let value = src[key];
    if (this.absent(value)) {
      if (opts.required) throw invalidParam(`${path}.${key} is required.`);
      return;
    }
    if (this.deferred(value)) {
      out[key] = value;
      return;
    }
    if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) value = Number(value.trim());
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalidParam(`invalid ${path}.${key}: must be an integer.`);
    const min = opts.min ?? 0;
    if (value < min) throw invalidParam(`invalid ${path}.${key}: must be ${min} or more.`);
    if (opts.max !== undefined && value > opts.max) throw invalidParam(`invalid ${path}.${key}: must be ${opts.max} or less.`);
    out[key] = value;
  }

  /** An http(s) URL field; returns it parsed (undefined when absent or still a `${KEY}`). */
  url(src: Json, key: string, path: string, out: Json, required: boolean): URL | undefined {
    this.str(src, key, path, out, { required });
    const value = out[key];
    if (typeof value !== 'string' || this.deferred(value)) return undefined;
    let parsed: URL;
    if (this.lastUrl?.text === value) {
      parsed = this.lastUrl.parsed;
    } else {
      try {
        parsed = new URL(value);
      } catch {
        throw invalidParam(`invalid ${path}.${key}: not a valid URL.`);
      }
      this.lastUrl = { text: value, parsed };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidParam(`invalid ${path}.${key}: must be an http or https URL.`);
    return parsed;
  }

  /** A link: at least one target; web URLs only on the app's registered web domains (`foreignLinks`). */
  link(value: unknown, path: string): Json {
    const src = this.object(value, path);
    const out: Json = {};
    const foreign = this.rules.foreignLinks ?? 'refuse';
    let dropped = false;
    for (const key of LINK_KEYS) {
      if (key === 'web_url' || key === 'mobile_web_url') {
        const url = this.url(src, key, path, out, false);
        if (url && foreign !== 'keep' && !isAllowedUrl(url, this.rules.webDomains)) {
          if (foreign === 'refuse') throw invalidParam(`invalid ${path}.${key}: the domain of ${out[key]} is not a registered web domain of this app.`);
          delete out[key];
          dropped = true;
        }
      } else {
        this.str(src, key, path, out);
      }
    }
    // A custom template's link whose every target its arguments left empty (a missing
    // `${URL}`) is kept with none, as a link dropped for its domain is: the message is sent and
    // the link opens nothing (seed 001: without link information a button does not move).
    const emptied = () => this.rules.custom === true && !this.rules.placeholders && LINK_KEYS.some((k) => src[k] !== undefined);
    if (Object.keys(out).length === 0 && !dropped && !emptied()) {
      throw invalidParam(`invalid ${path}: at least one of ${LINK_KEYS.join(', ')} is required.`);
    }
    return out;
  }

  optionalLink(src: Json, key: string, path: string, out: Json, required: boolean): void {
    const value = src[key];
    if (this.absent(value)) {
      if (required) throw invalidParam(`${path}.${key} is required.`);
      return;
    }
    out[key] = this.link(value, `${path}.${key}`);
  }

  content(value: unknown, path: string, opts: { description?: boolean } = {}): Json {
    const src = this.object(value, path);
    const out: Json = {};
    const custom = this.rules.custom === true;
    this.str(src, 'title', path, out, { required: !custom });
    this.url(src, 'image_url', path, out, !custom);
    this.int(src, 'image_width', path, out, { min: 1 });
    this.int(src, 'image_height', path, out, { min: 1 });
    if (opts.description === false) {
      if (!this.absent(src.description)) throw invalidParam(`invalid ${path}.description: not allowed in a commerce template.`);
    } else {
      this.str(src, 'description', path, out);
    }
    this.optionalLink(src, 'link', path, out, !custom);
    return out;
  }

  social(src: Json, path: string, out: Json): void {
    if (this.absent(src.social)) return;
    const social = this.object(src.social, `${path}.social`);
    const o: Json = {};
    for (const key of SOCIAL_KEYS) this.int(social, key, `${path}.social`, o);
    out.social = o;
  }

  itemContent(src: Json, path: string, out: Json): void {
    if (this.absent(src.item_content)) return;
    const p = `${path}.item_content`;
    const ic = this.object(src.item_content, p);
    const o: Json = {};
    this.str(ic, 'profile_text', p, o, { max: 16 });
    this.url(ic, 'profile_image_url', p, o, false);
    this.str(ic, 'title_image_text', p, o, { max: 24 });
    this.url(ic, 'title_image_url', p, o, false);
    this.str(ic, 'title_image_category', p, o, { max: 14 });
    if (!this.absent(ic.items)) {
      if (!Array.isArray(ic.items)) throw invalidParam(`invalid ${p}.items: must be an array.`);
      if (ic.items.length > 5) throw invalidParam(`invalid ${p}.items: at most 5 items.`);
      o.items = ic.items.map((item, i) => {
        const ip = `${p}.items[${i}]`;
        const src2 = this.object(item, ip);
        const io: Json = {};
        this.str(src2, 'item', ip, io, { required: true, max: 6 });
        this.str(src2, 'item_op', ip, io, { required: true, max: 14 });
        return io;
      });
    }
    this.str(ic, 'sum', p, o, { max: 6 });
    this.str(ic, 'sum_op', p, o, { max: 11 });
    out.item_content = o;
  }

  commerce(value: unknown, path: string): Json {
    const src = this.object(value, path);
    const out: Json = {};
    this.int(src, 'regular_price', path, out, { required: true });
    this.int(src, 'discount_price', path, out);
    this.int(src, 'discount_rate', path, out, { max: 100 });
    this.int(src, 'fixed_discount_price', path, out);
    if (out.discount_rate !== undefined && out.fixed_discount_price !== undefined) {
      throw invalidParam(`invalid ${path}: discount_rate and fixed_discount_price cannot be used together.`);
    }
    this.str(src, 'product_name', path, out);
    this.str(src, 'currency_unit', path, out);
    this.int(src, 'currency_unit_position', path, out, { max: 1 });
    return out;
  }

  /** `buttons` wins over `button_title`; neither: one default button on the main link. */
  buttons(src: Json, path: string, out: Json, max: number, defaultLink: Json | undefined): void {
    if (!this.absent(src.buttons)) {
      if (!Array.isArray(src.buttons)) throw invalidParam(`invalid ${path}.buttons: must be an array.`);
      if (src.buttons.length > max) throw invalidParam(`invalid ${path}.buttons: at most ${max} button${max === 1 ? '' : 's'}.`);
      out.buttons = src.buttons.map((b, i) => {
        const bp = `${path}.buttons[${i}]`;
        const button = this.object(b, bp);
        const o: Json = {};
        this.str(button, 'title', bp, o, { required: true });
        this.optionalLink(button, 'link', bp, o, true);
        return o;
      });
      if ((out.buttons as unknown[]).length > 0) return;
    }
    const title: Json = {};
    this.str(src, 'button_title', path, title);
    if (defaultLink) out.buttons = [{ title: title.button_title ?? DEFAULT_BUTTON_TITLE, link: defaultLink }];
  }
}

/** Validates a template object and returns the final template (throws -2 naming the path). */
export function normalizeTemplate(value: unknown, root: string, rules: TemplateRules): Json {
  const c = new Checker(rules);
  const src = c.object(value, root);
  const type = src.object_type;
  const allowed: readonly string[] = rules.custom ? CUSTOM_OBJECT_TYPES : OBJECT_TYPES;
  if (type === undefined || type === null || type === '') throw invalidParam(`${root}.object_type is required.`);
  if (typeof type !== 'string' || !allowed.includes(type)) {
    throw invalidParam(`invalid ${root}.object_type: must be one of ${allowed.join(', ')}.`);
  }
  const out: Json = { object_type: type };
  switch (type) {
    case 'feed': {
      out.content = c.content(need(src, 'content', root), `${root}.content`);
      c.itemContent(src, root, out);
      c.social(src, root, out);
      c.buttons(src, root, out, 2, (out.content as Json).link as Json | undefined);
      break;
    }
    case 'list': {
      c.str(src, 'header_title', root, out, { required: true, max: 200 });
      c.optionalLink(src, 'header_link', root, out, !rules.custom);
      const contents = need(src, 'contents', root);
      if (!Array.isArray(contents)) throw invalidParam(`invalid ${root}.contents: must be an array.`);
      const max = rules.custom ? 5 : 3;
      if (contents.length < 2 || contents.length > max) throw invalidParam(`invalid ${root}.contents: must have 2 to ${max} items.`);
      out.contents = contents.map((item, i) => c.content(item, `${root}.contents[${i}]`));
      c.buttons(src, root, out, 2, out.header_link as Json | undefined);
      break;
    }
    case 'location': {
      c.str(src, 'address', root, out, { required: true });
      c.str(src, 'address_title', root, out);
      out.content = c.content(need(src, 'content', root), `${root}.content`);
      c.social(src, root, out);
      c.buttons(src, root, out, 1, (out.content as Json).link as Json | undefined);
      break;
    }
    case 'commerce': {
      out.content = c.content(need(src, 'content', root), `${root}.content`, { description: false });
      out.commerce = c.commerce(need(src, 'commerce', root), `${root}.commerce`);
      c.buttons(src, root, out, 2, (out.content as Json).link as Json | undefined);
      break;
    }
    case 'text': {
      c.str(src, 'text', root, out, { required: true, max: TEXT_MAX });
      c.optionalLink(src, 'link', root, out, true);
      c.buttons(src, root, out, 2, out.link as Json);
      break;
    }
    case 'calendar': {
      c.str(src, 'id', root, out, { required: true });
      const idType = need(src, 'id_type', root);
      if (idType !== 'calendar' && idType !== 'event') throw invalidParam(`invalid ${root}.id_type: must be calendar or event.`);
      out.id_type = idType;
      out.content = c.content(need(src, 'content', root), `${root}.content`);
      c.buttons(src, root, out, 2, (out.content as Json).link as Json | undefined);
      break;
    }
  }
  return out;
}

/**
 * The template with every web link (`web_url`, `mobile_web_url`) outside `webDomains`
 * removed, the rest of each link kept: what Kakao Talk shows of a message whose links are
 * not on the app's registered domains. Shared messages are stored this way, after sharing
 * validation answered the dropped links in `warning_msg`; REST sends drop them while the
 * template is checked (`foreignLinks: 'drop'`), with the same result.
 */
export function dropForeignLinks(value: unknown, webDomains: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => dropForeignLinks(v, webDomains));
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if ((k === 'web_url' || k === 'mobile_web_url') && typeof v === 'string' && !isAllowedUrlText(v, webDomains)) continue;
    out[k] = dropForeignLinks(v, webDomains);
  }
  return out;
}

/** A text template's text as Kakao Talk shows it: the first 200 characters (code points), then an ellipsis. */
export function shownText(text: string): string {
  if (text.length <= TEXT_SHOWN) return text;
  const chars = [...text];
  return chars.length <= TEXT_SHOWN ? text : `${chars.slice(0, TEXT_SHOWN).join('')}…`;
}

function need(src: Json, key: string, root: string): unknown {
  const value = src[key];
  if (value === undefined || value === null) throw invalidParam(`${root}.${key} is required.`);
  return value;
}

const ArgsObject = Type.Record(Type.String(), Type.Unknown());

/** The name template arguments came under (`args` is seed 001's older one): errors about them name it. */
export type ArgsParam = 'template_args' | 'args';

/**
 * `template_args` (or `args`, the older name; `param` is the one the client sent, which errors
 * name): a JSON object of argument values. A value is text; a number or boolean stands for its
 * text (seed 001 sends `{"ARTICLE_ID":123}`), `null` for none; an object or array is no
 * argument (-2 naming it).
 */
export function templateArgs(text: string | undefined, param: ArgsParam = 'template_args'): Record<string, unknown> {
  const args = jsonParam(param, text, ArgsObject) ?? {};
  for (const [key, value] of Object.entries(args)) {
    if (value !== null && typeof value === 'object') throw invalidParam(`invalid ${param}.${key}: must be a string, a number or a boolean.`);
  }
  return args;
}

/**
 * Fills `${KEY}` placeholders from `args`, each with the argument's text (a number or
 * boolean as written). An integer field that is exactly one placeholder becomes a number
 * when checked (`image_width: "${W}"` with `{"W":640}` is 640), as a numeric string there
 * is; a text field filled by a number is that text. A key with no value is rendered empty
 * (in a custom template an empty field counts as absent) and returned in `missing`: sharing
 * validation answers those in `argument_msg`, a message is sent without them, as Kakao does.
 */
export function substitute(template: unknown, args: Record<string, unknown>): { value: unknown; missing: string[] } {
  const missing = new Set<string>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(/\$\{([^{}]+)\}/g, (_m, key: string) => {
        const arg = args[key];
        if (arg === undefined || arg === null) {
          missing.add(key);
          return '';
        }
        return String(arg);
      });
    }
    if (Array.isArray(v)) return v.map(walk);
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const value = walk(template);
  return { value, missing: [...missing] };
}
