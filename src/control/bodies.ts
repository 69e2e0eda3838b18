import { Type } from '@sinclair/typebox';
import { webDomainProblem } from '../core/fetcher.js';
import { LIMITS as L, Text } from './limits.js';

/**
 * The control plane's bodies for apps, people and a person's link, field by field: the
 * routes check what they are sent against them, and a state document's rows of the same
 * tables are checked against the same fields (store/state-schema.ts), so that an import
 * cannot store what the control plane refuses (docs/control-plane.md, "Limits").
 */

/**
 * The first `web_domains` entry that no page could ever match (core/fetcher.ts isAllowedUrl),
 * named with the form to write instead; checked on create, change and state import alike.
 */
export function webDomainsProblem(domains: readonly string[]): string | undefined {
  for (const domain of domains) {
    const problem = webDomainProblem(domain);
    if (problem) return `entry ${JSON.stringify(domain)} can never match a page: ${problem}`;
  }
  return undefined;
}

export const OptText = (max: number) => Type.Optional(Type.Union([Text(max), Type.Null()]));
const Urls = Type.Array(Text(L.url), { maxItems: L.urlsPerApp });
export const Scopes = Type.Array(Text(L.scope), { maxItems: L.scopesPerRequest });
export const OptBool = Type.Optional(Type.Boolean());
const ConsentSetting = Type.Union([Type.Literal('required'), Type.Literal('optional'), Type.Literal('disabled')]);

export const AppBody = Type.Object(
  {
    id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    name: Type.Optional(Text(L.appName)),
    rest_api_key: Type.Optional(Text(L.appKey)),
    native_key: Type.Optional(Text(L.appKey)),
    javascript_key: Type.Optional(Text(L.appKey)),
    admin_key: Type.Optional(Text(L.appKey)),
    client_secret: OptText(L.clientSecret),
    redirect_uris: Type.Optional(Urls),
    logout_redirect_uris: Type.Optional(Urls),
    web_domains: Type.Optional(Urls),
    consent_items: Type.Optional(Type.Record(Text(L.scope), ConsentSetting, { maxProperties: L.consentItems })),
    service_terms: Type.Optional(
      Type.Array(
        Type.Object({ tag: Text(L.termTag), title: Type.Optional(Text(L.termTitle)), required: OptBool, revocable: OptBool }),
        { maxItems: L.serviceTerms },
      ),
    ),
    user_property_keys: Type.Optional(Type.Array(Text(L.propertyKey), { maxItems: L.userPropertyKeys })),
    login_enabled: OptBool,
    oidc_enabled: OptBool,
    manual_signup: OptBool,
  },
  { additionalProperties: false },
);

export const AccountBody = Type.Object(
  {
    id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    email: Type.Optional(Text(L.email)),
    password: Type.Optional(Text(L.password)),
    nickname: Type.Optional(Text(L.nickname)),
    profile_image_url: OptText(L.url),
    thumbnail_image_url: OptText(L.url),
    name: OptText(L.personName),
    gender: Type.Optional(Type.Union([Type.Literal('female'), Type.Literal('male'), Type.Null()])),
    birthyear: Type.Optional(Type.Union([Type.String({ pattern: '^\\d{4}$' }), Type.Null()])),
    birthday: Type.Optional(Type.Union([Type.String({ pattern: '^\\d{4}$' }), Type.Null()])),
    birthday_type: Type.Optional(Type.Union([Type.Literal('SOLAR'), Type.Literal('LUNAR'), Type.Null()])),
    is_leap_month: OptBool,
    phone_number: OptText(L.phoneNumber),
    is_korean: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    email_verified: OptBool,
    talk_user: OptBool,
    story_user: OptBool,
  },
  { additionalProperties: false },
);

/** Custom properties of a person's link: keys and values bounded, as many as an app may define. */
export const LinkProperties = Type.Record(Type.String(), Text(L.propertyValue), {
  maxProperties: L.userPropertyKeys + 3,
  // A record's key schema is not checked by Ajv: the names are, by JSON Schema's propertyNames.
  propertyNames: { minLength: 1, maxLength: L.propertyKey },
});

