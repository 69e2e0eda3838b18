import { Type } from '@sinclair/typebox';
import { invalidParam } from '../../core/errors.js';
import type { App } from '../../core/model.js';
import { jsonParam } from '../../core/params.js';
import type { Platform } from '../../core/platform.js';
import { type Json, dropForeignLinks, findCustomTemplate, normalizeTemplate, scrapPage, substitute, templateArgs } from '../message/index.js';
import { defaultTemplateArgs, renderTemplateMsg } from './render.js';
import { findIssuedTemplate, issueTemplate } from './store.js';

/**
 * Kakao Talk sharing validation (wire facts §7.1, products notes §1.1): a default template,
 * a custom template with arguments, or a scrapped page becomes the message a chat shows, its
 * `template_msg`, and the warnings and argument problems the SDKs read. The kapi endpoints
 * answer it as it is; the sharer runs the same validation before it shows the picker.
 */

export type ValidationAction = 'default' | 'custom' | 'scrap';

export interface ValidationRequest {
  action: ValidationAction;
  linkVer?: string;
  templateObject?: string;
  templateId?: number;
  templateArgs?: string;
  requestUrl?: string;
  schemeParams?: string;
}

export interface Validation {
  templateId: number;
  templateArgs: Record<string, unknown>;
  templateMsg: Json;
  warningMsg: Record<string, string>;
  argumentMsg: Record<string, string>;
  schemeParams?: Json;
  /** What the chats will show: the final template (links outside the web domains dropped). */
  template: Json;
  templateType: string;
}

const JsonObject = Type.Record(Type.String(), Type.Unknown());
const SchemeParams = Type.Object({
  list: Type.Optional(Type.Union([Type.Literal('default'), Type.Literal('friend'), Type.Literal('chat')])),
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
});

const NO_VALUE = "there's no given value.";

function checkLinkVer(linkVer: string | undefined): void {
  if (linkVer === undefined) throw invalidParam('link_ver is required.');
  if (linkVer !== '4.0') throw invalidParam(`invalid link_ver: ${linkVer} is not supported (4.0).`);
}

export async function validateShare(platform: Platform, app: App, req: ValidationRequest): Promise<Validation> {
  checkLinkVer(req.linkVer);
  const schemeParams = jsonParam('scheme_params', req.schemeParams, SchemeParams);
  const { kept, ...answer } = await build(platform, app, req);
  const rendered = renderTemplateMsg(app, answer.template);
  return {
    ...answer,
    template: kept ?? (dropForeignLinks(answer.template, app.webDomains) as Json),
    templateMsg: rendered.templateMsg,
    warningMsg: rendered.warnings,
    schemeParams,
  };
}

/** `kept`: the template without its foreign links, when building it already worked that out. */
type Built = Omit<Validation, 'templateMsg' | 'warningMsg' | 'schemeParams'> & { kept?: Json };

async function build(platform: Platform, app: App, req: ValidationRequest): Promise<Built> {
  const now = platform.clock.now();
  const rules = { webDomains: app.webDomains, foreignLinks: 'keep' as const };
  if (req.action === 'default') {
    const value = jsonParam('template_object', req.templateObject, JsonObject);
    if (value === undefined) throw invalidParam('template_object is required.');
    const template = normalizeTemplate(value, 'template_object', rules);
    const kept = dropForeignLinks(template, app.webDomains) as Json;
    const id = await issueTemplate(platform.db, app.id, 'default', kept, now);
    return { templateId: id, templateArgs: defaultTemplateArgs(template), argumentMsg: {}, template, templateType: template.object_type as string, kept };
  }
  const args = templateArgs(req.templateArgs);
  if (req.action === 'custom') {
    if (req.templateId === undefined) throw invalidParam('template_id is required.');
    return custom(platform, app, req.templateId, args, args);
  }
  if (req.requestUrl === undefined) throw invalidParam('request_url is required.');
  const scrap = await scrapPage(req.requestUrl, app.webDomains);
  if (req.templateId !== undefined) {
    // Scrapped values cannot be overwritten by template_args (seed 004).
    const merged = { ...args, ...scrap.args };
    return custom(platform, app, req.templateId, merged, merged);
  }
  const id = await issueTemplate(platform.db, app.id, 'scrap', scrap.template, now);
  return { templateId: id, templateArgs: scrap.args, argumentMsg: {}, template: scrap.template, templateType: 'scrap' };
}

/**
 * A custom template: one of the app's Message Template Builder templates, or a template id
 * an earlier validation issued for a default or scrap message (the Flutter web sharer sends
 * those back as custom, products notes §1.1). Missing `${args}` are reported and left empty.
 */
async function custom(platform: Platform, app: App, templateId: number, args: Record<string, unknown>, echo: Record<string, unknown>): Promise<Built> {
  const stored = await findCustomTemplate(platform.db, app.id, templateId);
  if (!stored) {
    const issued = await findIssuedTemplate(platform.db, app.id, templateId);
    if (!issued) throw invalidParam(`invalid template_id: template ${templateId} does not exist in this app.`);
    return { templateId, templateArgs: echo, argumentMsg: {}, template: issued.template, templateType: (issued.template.object_type as string) ?? issued.kind };
  }
  const { value, missing } = substitute(stored.template, args);
  const argumentMsg: Record<string, string> = {};
  for (const key of missing) argumentMsg[`\${${key}}`] = NO_VALUE;
  const template = normalizeTemplate(value, `template(${templateId})`, { webDomains: app.webDomains, custom: true, foreignLinks: 'keep' });
  return { templateId, templateArgs: echo, argumentMsg, template, templateType: template.object_type as string };
}

/** The wire body of a validation answer (wire facts §7.1). */
export function validationJson(v: Validation): Record<string, unknown> {
  const out: Record<string, unknown> = {
    template_id: v.templateId,
    template_args: v.templateArgs,
    template_msg: v.templateMsg,
    warning_msg: v.warningMsg,
    argument_msg: v.argumentMsg,
  };
  if (v.schemeParams !== undefined) out.scheme_params = v.schemeParams;
  return out;
}
