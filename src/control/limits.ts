import { Type, type TString } from '@sinclair/typebox';

/**
 * Size limits of control-plane fields (docs/control-plane.md, "Limits"). Where Kakao
 * documents a limit it is that one (story text and comments 2,048 characters, a message
 * template 10 KB, 10 redirect URIs and web domains per app); elsewhere it is generous for
 * test data and far below what could hurt the store (a 12 MB nickname was accepted).
 * Values beyond a limit are a 400 `{error}` naming the field, before anything is stored.
 */
export const LIMITS = {
  /** App names in the developer console. */
  appName: 100,
  /** App keys are 32 hex characters when generated; chosen ones may be longer. */
  appKey: 128,
  clientSecret: 128,
  /** Redirect URIs, web domains, image URLs: the common browser URL limit. */
  url: 2048,
  /** Kakao allows 10 redirect URIs (and logout redirect URIs, and web domains) per app. */
  urlsPerApp: 10,
  consentItems: 64,
  serviceTerms: 50,
  termTag: 64,
  termTitle: 200,
  userPropertyKeys: 50,
  propertyKey: 64,
  propertyValue: 1024,
  /** RFC 5321: a forward path holds at most 254 characters of address. */
  email: 254,
  /** Passwords are hashed: bounded so a hash always costs the same. */
  password: 128,
  /** Kakao Talk caps profile names at 20 characters; test data (markup probes) gets room. */
  nickname: 50,
  personName: 50,
  phoneNumber: 32,
  scopesPerRequest: 64,
  scope: 64,
  addressName: 50,
  address: 200,
  zoneOrZipCode: 16,
  /** Viewers of one multi-profile. */
  viewers: 1000,
  templateName: 100,
  /** Kakao's limit on a message's attachment (template) JSON: 10 KB. */
  templateJson: 10_000,
  /** Story ids are `handle.activity`: 7 + 1 + 11 characters. */
  storyId: 64,
  chatId: 32,
  dateTime: 64,
} as const;

/** A string of at most `max` characters (and at least `min`). */
export function Text(max: number, min?: number): TString {
  return Type.String(min === undefined ? { maxLength: max } : { minLength: min, maxLength: max });
}

/** Ids looked up or referred to: integers from 0 below 2^53 (bigint columns; JavaScript numbers stay exact). */
export const Id = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/**
 * The same limits on rows of a state document (`PUT|POST /state`, `kapibara import`):
 * text columns of the tables the control plane writes field by field. Longer texts (story
 * contents, templates, image bytes) are checked by their products' own rules when made.
 */
const COLUMN_LIMITS: Record<string, Record<string, number>> = {
  apps: {
    name: LIMITS.appName,
    rest_api_key: LIMITS.appKey,
    native_key: LIMITS.appKey,
    javascript_key: LIMITS.appKey,
    admin_key: LIMITS.appKey,
    client_secret: LIMITS.clientSecret,
  },
  accounts: {
    email: LIMITS.email,
    // A plaintext password, or its hash (about 100 characters).
    password: 256,
    nickname: LIMITS.nickname,
    name: LIMITS.personName,
    phone_number: LIMITS.phoneNumber,
    profile_image_url: LIMITS.url,
    thumbnail_image_url: LIMITS.url,
  },
  shipping_addresses: {
    name: LIMITS.addressName,
    base_address: LIMITS.address,
    detail_address: LIMITS.address,
    receiver_name: LIMITS.personName,
    receiver_phone_number1: LIMITS.phoneNumber,
    receiver_phone_number2: LIMITS.phoneNumber,
    zone_number: LIMITS.zoneOrZipCode,
    zip_code: LIMITS.zoneOrZipCode,
  },
  talk_multi_profiles: { nickname: LIMITS.nickname, profile_image_url: LIMITS.url, thumbnail_image_url: LIMITS.url },
  story_profiles: { nickname: LIMITS.nickname, profile_image_url: LIMITS.url, thumbnail_url: LIMITS.url, bg_image_url: LIMITS.url },
  talk_templates: { name: LIMITS.templateName },
  // Kakao's limit on a story's text, as the API and the control plane hold it.
  stories: { content: 2048 },
};

/** Characters (code points) in `text`, as the routes count them: an emoji is one, not two. */
export function characters(text: string): number {
  return [...text].length;
}

/** The first column of `row` longer than its limit, as a message; undefined when all fit. */
export function columnTooLong(table: string, row: Record<string, unknown>): string | undefined {
  const limits = COLUMN_LIMITS[table];
  if (!limits) return undefined;
  for (const [column, max] of Object.entries(limits)) {
    const value = row[column];
    if (typeof value === 'string' && characters(value) > max) return `${table}.${column} is longer than ${max} characters`;
  }
  return undefined;
}
