/**
 * The Kakao User API (kapi): what each endpoint does, independent of HTTP. Every function
 * takes the platform (store and clock), the resolved caller and the validated input, and
 * returns the wire body. Errors are thrown as Kakao API errors.
 */
import { KakaoApiError, TOKEN_UNKNOWN, consentItemDisabled, insufficientScopes, invalidParam, invalidToken, notLinked } from '../../core/errors.js';
import { isoSeconds } from '../../core/clock.js';
import { LIMITS, characters } from '../../control/limits.js';
import { type ScopeCatalog, type ScopeInfo, hasScope } from '../../core/scopes.js';
import { consentItemOn, type PersonCall } from '../../core/auth.js';
import type { Platform } from '../../core/platform.js';
import { ownUrl, urlForClient, withScheme } from '../../core/own-urls.js';
import type { App, ServiceTerm } from '../../store/apps.js';
import { type Account, ageRange } from '../../store/accounts.js';
import { type Link, changeLink, deleteLink } from '../../store/links.js';
import { revokeTokens } from '../../store/tokens.js';
import {
  type ShippingAddressRow,
  findDefaultShippingAddress,
  findLinkedPeople,
  hasNonDefaultShippingAddressInSecond,
  listShippingAddresses,
  pageUserIds,
} from './store.js';

// ---------------------------------------------------------------------------------------
// /v2/user/me and /v2/app/users

/** Kakao's default profile picture, served when a person has not set one (is_default_image). */
const DEFAULT_PROFILE_IMAGE = 'https://img1.kakaocdn.net/thumb/R640x640.q70/?fname=https://t1.kakaocdn.net/account_images/default_profile.jpeg';
const DEFAULT_THUMBNAIL_IMAGE = 'https://img1.kakaocdn.net/thumb/R110x110.q70/?fname=https://t1.kakaocdn.net/account_images/default_profile.jpeg';

/** The built-in user properties every app has, besides its own `user_property_keys`. */
export const BUILTIN_PROPERTY_KEYS: readonly string[] = ['nickname', 'profile_image', 'thumbnail_image'];

/** `property_keys` entries that select a part of `kakao_account`. */
const ACCOUNT_SECTIONS = new Set([
  'kakao_account.profile',
  'kakao_account.name',
  'kakao_account.email',
  'kakao_account.age_range',
  'kakao_account.birthyear',
  'kakao_account.birthday',
  'kakao_account.gender',
  'kakao_account.phone_number',
  'kakao_account.is_korean',
]);
/**
 * Keys Kakao documents that need a permission Kapibara apps never have (partner uuid, CI,
 * verified legal identity): accepted, and the data is simply not returned.
 */
const UNGRANTED_KEYS = new Set([
  'for_partner.uuid',
  'kakao_account.ci',
  'kakao_account.legal_name',
  'kakao_account.legal_birth_date',
  'kakao_account.legal_gender',
]);

export interface UserView {
  /** `property_keys`: only these parts appear; undefined = everything. */
  keys?: ReadonlySet<string>;
  /** `secure_resource=true`: image URLs use https; otherwise http, as Kakao does. */
  secure: boolean;
  /** The request's origin: Kapibara's own images are served there, in its scheme. */
  origin: string;
}

/** Checks `property_keys` against what Kakao documents (and the app's own property keys). */
export function checkPropertyKeys(app: App, keys: string[] | undefined): ReadonlySet<string> | undefined {
  if (!keys) return undefined;
  for (const key of keys) {
    if (ACCOUNT_SECTIONS.has(key) || UNGRANTED_KEYS.has(key) || key === 'has_signed_up') continue;
    if (key.startsWith('properties.')) {
      const name = key.slice('properties.'.length);
      if (BUILTIN_PROPERTY_KEYS.includes(name) || app.userPropertyKeys.includes(name)) continue;
    }
    throw invalidParam(`invalid property_keys: unknown key "${key}".`);
  }
  return new Set(keys);
}

/** Kapibara's own images on the request origin; others' on https with `secure_resource=true`, else http. */
function imageUrl(url: string, secure: boolean, origin: string): string {
  return ownUrl(url, origin) ?? withScheme(url, secure ? 'https' : 'http');
}

const isEnabled = consentItemOn;

/**
 * The `/v2/user/me` object. An item appears (with its `*_needs_agreement` flag) when the
 * app has it enabled or the person agreed to it; its value appears only with consent.
 */
export function userJson(subject: Pick<PersonCall, 'app' | 'account' | 'link'>, view: UserView, now: number): Record<string, unknown> {
  const { app, account, link } = subject;
  const { keys, secure, origin } = view;
  const want = (key: string) => keys === undefined || keys.has(key);
  const agreed = (scope: string) => hasScope(link.scopes, scope);
  const listed = (scope: string) => isEnabled(app, scope) || link.scopes[scope] !== undefined;

  const out: Record<string, unknown> = { id: link.userId };
  if (app.manualSignup && want('has_signed_up')) out.has_signed_up = link.signedUpAt !== null;
  out.connected_at = isoSeconds(link.connectedAt);

  // An empty URL counts as none (older seeds and form tools write "" for "no picture").
  const hasImage = Boolean(account.profileImageUrl);
  const profileUrl = imageUrl(account.profileImageUrl || DEFAULT_PROFILE_IMAGE, secure, origin);
  const thumbnailUrl = imageUrl(account.thumbnailImageUrl || account.profileImageUrl || DEFAULT_THUMBNAIL_IMAGE, secure, origin);

  const properties: Record<string, string> = {};
  if (agreed('profile_nickname') && want('properties.nickname')) properties.nickname = account.nickname;
  if (agreed('profile_image') && hasImage) {
    if (want('properties.profile_image')) properties.profile_image = profileUrl;
    if (want('properties.thumbnail_image')) properties.thumbnail_image = thumbnailUrl;
  }
  // What the app saved with update_profile/signup wins over the profile-derived values.
  for (const key in link.properties) {
    const value = link.properties[key];
    if (typeof value === 'string' && want(`properties.${key}`)) properties[key] = value;
  }
  if (Object.keys(properties).length > 0) out.properties = properties;

  const ka: Record<string, unknown> = {};
  if (want('kakao_account.profile')) {
    if (listed('profile')) ka.profile_needs_agreement = !agreed('profile');
    if (listed('profile_nickname')) ka.profile_nickname_needs_agreement = !agreed('profile_nickname');
    if (listed('profile_image')) ka.profile_image_needs_agreement = !agreed('profile_image');
    const profile: Record<string, unknown> = {};
    if (agreed('profile_nickname')) profile.nickname = account.nickname;
    if (agreed('profile_image')) {
      profile.thumbnail_image_url = thumbnailUrl;
      profile.profile_image_url = profileUrl;
      profile.is_default_image = !hasImage;
    }
    // An account created without a nickname carries the platform's generated one.
    if (agreed('profile_nickname')) profile.is_default_nickname = account.nickname === `Person ${account.id}`;
    if (Object.keys(profile).length > 0) ka.profile = profile;
  }
  if (want('kakao_account.name') && listed('name')) {
    ka.name_needs_agreement = !agreed('name');
    if (agreed('name') && account.name !== null) ka.name = account.name;
  }
  if (want('kakao_account.email') && listed('account_email')) {
    ka.email_needs_agreement = !agreed('account_email');
    if (agreed('account_email')) {
      ka.is_email_valid = true;
      ka.is_email_verified = account.emailVerified;
      ka.email = account.email;
    }
  }
  if (want('kakao_account.age_range') && listed('age_range')) {
    ka.age_range_needs_agreement = !agreed('age_range');
    const range = agreed('age_range') ? ageRange(account.birthyear, now) : undefined;
    if (range) ka.age_range = range;
  }
  if (want('kakao_account.birthyear') && listed('birthyear')) {
    ka.birthyear_needs_agreement = !agreed('birthyear');
    if (agreed('birthyear') && account.birthyear !== null) ka.birthyear = account.birthyear;
  }
  if (want('kakao_account.birthday') && listed('birthday')) {
    ka.birthday_needs_agreement = !agreed('birthday');
    if (agreed('birthday') && account.birthday !== null) {
      ka.birthday = account.birthday;
      ka.birthday_type = account.birthdayType ?? 'SOLAR';
      ka.is_leap_month = account.isLeapMonth;
    }
  }
  if (want('kakao_account.gender') && listed('gender')) {
    ka.gender_needs_agreement = !agreed('gender');
    if (agreed('gender') && account.gender !== null) ka.gender = account.gender;
  }
  if (want('kakao_account.phone_number') && listed('phone_number')) {
    ka.phone_number_needs_agreement = !agreed('phone_number');
    if (agreed('phone_number') && account.phoneNumber !== null) ka.phone_number = account.phoneNumber;
  }
  if (want('kakao_account.is_korean') && listed('is_korean')) {
    ka.is_korean_needs_agreement = !agreed('is_korean');
    if (agreed('is_korean') && account.isKorean !== null) ka.is_korean = account.isKorean;
  }
  if (keys === undefined || Object.keys(ka).length > 0) out.kakao_account = ka;
  return out;
}

/** `/v2/app/users`: the me-shaped object of each listed id linked to the app, in request order. */
export async function appUsers(platform: Platform, app: App, userIds: number[], view: UserView): Promise<Record<string, unknown>[]> {
  const people = await findLinkedPeople(platform.db, app.id, [...new Set(userIds)]);
  const byId = new Map(people.map((p) => [p.link.userId, p]));
  const now = platform.clock.now();
  const out: Record<string, unknown>[] = [];
  for (const id of new Set(userIds)) {
    const person = byId.get(id);
    if (person) out.push(userJson({ app, ...person }, view, now));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Tokens and the link

export function accessTokenInfo(platform: Platform, subject: PersonCall, tokenExpiresAt: number) {
  return {
    id: subject.link.userId,
    // Whole seconds left, rounded up: a token issued with expires_in 43199 reads 43199 at once.
    expires_in: Math.max(0, Math.ceil((tokenExpiresAt - platform.clock.now()) / 1000)),
    app_id: subject.app.id,
  };
}

/** Logout: every token the app holds for the person stops working; the link stays. */
export async function logout(platform: Platform, subject: PersonCall) {
  const revoked = await revokeTokens(platform.db, subject.app.id, subject.account.id);
  // The caller's own token was already gone: another logout or unlink ran at the same time.
  if (revoked === 0 && !subject.byAdmin) throw gone(subject);
  return { id: subject.link.userId };
}

/** Unlink: the link, its properties, consents and every token are gone. */
export async function unlink(platform: Platform, subject: PersonCall) {
  if (!(await deleteLink(platform.db, subject.app.id, subject.account.id))) throw gone(subject);
  return { id: subject.link.userId };
}

export interface UserIdsPageInput {
  limit: number;
  order: 'asc' | 'desc';
  fromId?: number;
}

/** `/v1/user/ids`: keyset pages of the app's user ids with absolute before/after URLs. */
export async function userIds(platform: Platform, app: App, input: UserIdsPageInput, link: { origin: string; appKey: string }) {
  const page = await pageUserIds(platform.db, app.id, input);
  const url = (order: 'asc' | 'desc', fromId: number) =>
    `${link.origin}/v1/user/ids?limit=${input.limit}&order=${order}&from_id=${fromId}&app_key=${encodeURIComponent(link.appKey)}`;
  const reverse = input.order === 'asc' ? 'desc' : 'asc';
  return {
    elements: page.ids,
    total_count: page.total,
    before_url: page.hasBefore ? url(reverse, page.ids[0]) : null,
    after_url: page.hasAfter ? url(input.order, page.ids[page.ids.length - 1]) : null,
  };
}

// ---------------------------------------------------------------------------------------
// Properties and signup

/**
 * Checks a `properties` object: keys must be the app's property keys or the built-in ones
 * (-201 otherwise); values are strings (numbers and booleans are stored as text; null
 * removes the property).
 */
function checkProperties(app: App, properties: Record<string, unknown>): Record<string, string | null> {
  const unknown = Object.keys(properties).filter((k) => !BUILTIN_PROPERTY_KEYS.includes(k) && !app.userPropertyKeys.includes(k));
  if (unknown.length > 0) {
    throw new KakaoApiError(-201, `user property not found (${unknown.join(', ')}). register it in [User Property] of the app.`, 400);
  }
  const out: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (value === null) out[key] = null;
    else if (typeof value === 'string') {
      // As the control plane and a state import hold a link's properties (control/limits.ts).
      if (characters(value) > LIMITS.propertyValue) throw invalidParam(`invalid properties.${key}: a property value may be at most ${LIMITS.propertyValue} characters.`);
      out[key] = value;
    }
    else if (typeof value === 'number' && !(Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value)))) {
      // JSON.parse gave a rounded number (beyond 2^53) or Infinity: its text is not what was sent.
      throw invalidParam(`invalid properties.${key}: a number beyond 2^53 (send it as a string).`);
    } else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    else throw invalidParam(`invalid properties.${key}: a property value must be a string.`);
  }
  return out;
}

/**
 * Changes the caller's link as it is stored now, not as it was read when the call was
 * authenticated (calls made at once each build on the other's change: store/links.ts).
 * Gone meanwhile (unlinked by another call): refused as the call would be now.
 */
async function changeOwnLink(platform: Platform, subject: PersonCall, change: (link: Link) => boolean | void): Promise<Link> {
  const link = await changeLink(platform.db, subject.app.id, subject.account.id, change);
  if (!link) throw gone(subject);
  subject.link = link;
  return link;
}

/** The answer to a call whose person was unlinked (or token revoked) while it ran. */
function gone(subject: PersonCall): KakaoApiError {
  return subject.byAdmin ? notLinked() : invalidToken(TOKEN_UNKNOWN);
}

function applyProperties(link: Link, values: Record<string, string | null>): void {
  const next = { ...link.properties };
  for (const [key, value] of Object.entries(values)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  link.properties = next;
}

export async function updateProfile(platform: Platform, subject: PersonCall, properties: Record<string, unknown>) {
  const values = checkProperties(subject.app, properties);
  const link = await changeOwnLink(platform, subject, (link) => applyProperties(link, values));
  return { id: link.userId };
}

/** Manual signup: completes the link for apps that turned automatic signup off. */
export async function signup(platform: Platform, subject: PersonCall, properties: Record<string, unknown> | undefined) {
  const values = properties ? checkProperties(subject.app, properties) : {};
  const link = await changeOwnLink(platform, subject, (link) => {
    if (link.signedUpAt !== null) throw new KakaoApiError(-102, 'AlreadyRegisteredUserException', 400);
    applyProperties(link, values);
    link.signedUpAt = platform.clock.now();
  });
  return { id: link.userId };
}

// ---------------------------------------------------------------------------------------
// Shipping addresses

export const SHIPPING_API_TYPE = 'USER_SHIPPING_ADDRESS';

export interface ShippingInput {
  addressId?: number;
  fromUpdatedAt?: number;
  pageSize: number;
}

function addressJson(row: ShippingAddressRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    is_default: row.is_default === 1,
    updated_at: Math.floor(row.updated_at / 1000),
    type: row.type,
    base_address: row.base_address,
  };
  const optional = ['detail_address', 'receiver_name', 'receiver_phone_number1', 'receiver_phone_number2', 'zone_number', 'zip_code'] as const;
  for (const key of optional) if (row[key] !== null) out[key] = row[key];
  return out;
}

/**
 * Without consent, an app that uses the item learns it needs agreement (200); an app that
 * has not turned the item on gets -3, like every API whose consent item is off.
 */
export async function shippingAddresses(platform: Platform, subject: PersonCall, input: ShippingInput) {
  const { app, link, account } = subject;
  if (!hasScope(link.scopes, 'shipping_address')) {
    if (!isEnabled(app, 'shipping_address')) throw consentItemDisabled(app.name, 'shipping_address', SHIPPING_API_TYPE);
    return { user_id: link.userId, shipping_addresses_needs_agreement: true };
  }
  let after: { beforeMs?: number } | undefined;
  if (input.addressId === undefined && input.fromUpdatedAt !== undefined) {
    const second = Math.floor(input.fromUpdatedAt);
    after = { beforeMs: second * 1000 };
    // The default address leads page one whatever its age: when the previous page ended
    // with it (and nothing else has that timestamp), the rest starts from the newest.
    const byDefault = await findDefaultShippingAddress(platform.db, account.id);
    if (
      byDefault &&
      Math.floor(byDefault.updated_at / 1000) === second &&
      !(await hasNonDefaultShippingAddressInSecond(platform.db, account.id, second * 1000))
    ) {
      after = {};
    }
  }
  const rows = await listShippingAddresses(platform.db, account.id, { addressId: input.addressId, after, size: input.pageSize });
  return { user_id: link.userId, shipping_addresses_needs_agreement: false, shipping_addresses: rows.map(addressJson) };
}

// ---------------------------------------------------------------------------------------
// Consents (scopes)

function scopeJson(app: App, link: Link, info: ScopeInfo): Record<string, unknown> {
  const agreed = hasScope(link.scopes, info.id);
  const out: Record<string, unknown> = {
    id: info.id,
    display_name: info.display_name,
    type: info.type,
    using: isEnabled(app, info.id),
    agreed,
  };
  if (agreed) out.revocable = app.consentItems[info.id] !== 'required';
  return out;
}

function checkScopeIds(catalog: ScopeCatalog, ids: string[]): void {
  for (const id of ids) if (!catalog.has(id)) throw invalidParam(`invalid scopes: unknown scope "${id}".`);
}

export function scopes(subject: PersonCall, filter: string[] | undefined) {
  if (filter) checkScopeIds(subject.platform.scopes, filter);
  const wanted = filter ? new Set(filter) : undefined;
  return {
    id: subject.link.userId,
    scopes: subject.platform.scopes.all.filter((s) => !wanted || wanted.has(s.id)).map((s) => scopeJson(subject.app, subject.link, s)),
  };
}

/**
 * Withdraws agreement. A required item cannot be withdrawn (-2 naming it), nor one whose
 * withdrawal would drop a required item (the combined `profile`). Not-agreed items are a
 * no-op, so a retried call succeeds.
 */
export async function revokeScopes(platform: Platform, subject: PersonCall, ids: string[]) {
  checkScopeIds(platform.scopes, ids);
  const { app } = subject;
  for (const id of ids) {
    if (app.consentItems[id] === 'required') {
      throw invalidParam(`invalid scopes: "${id}" cannot be revoked (required consent item: ${id}).`);
    }
  }
  await changeOwnLink(platform, subject, (link) => {
    const next = { ...link.scopes };
    for (const id of ids) {
      if (next[id] !== undefined) delete next[id];
      else if ((id === 'profile_nickname' || id === 'profile_image') && next.profile !== undefined) {
        // Agreed through the combined item: keep the other half of it.
        const other = id === 'profile_nickname' ? 'profile_image' : 'profile_nickname';
        next[other] ??= next.profile;
        delete next.profile;
      }
    }
    // Only the combined `profile` can take a required item with it (its nickname or image half).
    const dropped = Object.keys(app.consentItems).filter(
      (scope) => app.consentItems[scope] === 'required' && hasScope(link.scopes, scope) && !hasScope(next, scope),
    );
    if (dropped.length > 0) {
      throw invalidParam(`invalid scopes: "profile" cannot be revoked (required consent item: ${dropped.join(', ')}).`);
    }
    link.scopes = next;
  });
  return scopes(subject, undefined);
}

// ---------------------------------------------------------------------------------------
// Service terms

/** The app's terms `tags` names (all without it), in the app's term order; an unknown tag is -2. */
function termsOf(app: App, tags: string[] | undefined): ServiceTerm[] {
  if (!tags) return app.serviceTerms;
  const named = new Set(tags);
  for (const tag of named) {
    if (!app.serviceTerms.some((t) => t.tag === tag)) throw invalidParam(`invalid tags: "${tag}" is not a service term of the app.`);
  }
  return app.serviceTerms.filter((t) => named.has(t.tag));
}

function termJson(link: Link, term: ServiceTerm): Record<string, unknown> {
  const agreement = link.terms[term.tag];
  const out: Record<string, unknown> = {
    tag: term.tag,
    required: term.required,
    agreed: agreement !== undefined,
    revocable: term.revocable,
  };
  if (agreement) {
    out.agreed_at = isoSeconds(agreement.agreed_at);
    out.agreed_by = agreement.agreed_by;
  }
  return out;
}

export function serviceTerms(subject: PersonCall, tags: string[] | undefined, result: 'agreed_service_terms' | 'app_service_terms') {
  const terms = termsOf(subject.app, tags).filter((t) => result === 'app_service_terms' || subject.link.terms[t.tag] !== undefined);
  return { id: subject.link.userId, service_terms: terms.map((t) => termJson(subject.link, t)) };
}

/**
 * The legacy `GET /v1/user/service/terms` (in Kakao's SDK v1's API list): the terms the
 * person agreed, in the app's term order, as `{ tag, agreed_at }` (the time as /v2 gives it).
 */
export function legacyServiceTerms(subject: PersonCall) {
  const agreed = subject.app.serviceTerms.filter((t) => subject.link.terms[t.tag] !== undefined);
  return {
    user_id: subject.link.userId,
    allowed_service_terms: agreed.map((t) => ({ tag: t.tag, agreed_at: isoSeconds(subject.link.terms[t.tag]!.agreed_at) })),
  };
}

export async function revokeServiceTerms(platform: Platform, subject: PersonCall, tags: string[]) {
  const terms = termsOf(subject.app, tags);
  for (const term of terms) {
    if (!term.revocable || term.required) throw invalidParam(`invalid tags: "${term.tag}" cannot be revoked.`);
  }
  const link = await changeOwnLink(platform, subject, (link) => {
    for (const term of terms) delete link.terms[term.tag];
  });
  return { id: link.userId, revoked_service_terms: terms.map((t) => ({ tag: t.tag, agreed: false })) };
}

/** Agreement given through the app's own UI, recorded as `agreed_by: KAPI`. */
export async function upgradeServiceTerms(platform: Platform, subject: PersonCall, tags: string[]) {
  const terms = termsOf(subject.app, tags);
  const now = platform.clock.now();
  const link = await changeOwnLink(platform, subject, (link) => {
    for (const term of terms) link.terms[term.tag] ??= { agreed_at: now, agreed_by: 'KAPI' };
  });
  return { id: link.userId, service_terms: terms.map((t) => termJson(link, t)) };
}

// ---------------------------------------------------------------------------------------
// OpenID Connect userinfo

export const USERINFO_API_TYPE = 'OIDC_USERINFO';

/** Standard OIDC claims, each only with its consent item (no `openid` consent: -402). */
export function oidcUserinfo(subject: PersonCall, origin: string) {
  const { account, link } = subject;
  const agreed = (scope: string) => hasScope(link.scopes, scope);
  if (!agreed('openid')) throw insufficientScopes(USERINFO_API_TYPE, ['openid'], Object.keys(link.scopes));
  const out: Record<string, unknown> = { sub: String(link.userId) };
  if (agreed('name') && account.name !== null) out.name = account.name;
  if (agreed('profile_nickname')) out.nickname = account.nickname;
  if (agreed('profile_image')) out.picture = urlForClient(account.profileImageUrl || DEFAULT_PROFILE_IMAGE, origin);
  if (agreed('account_email')) {
    out.email = account.email;
    out.email_verified = account.emailVerified;
  }
  if (agreed('gender') && account.gender !== null) out.gender = account.gender;
  const year = agreed('birthyear') ? account.birthyear : null;
  const day = agreed('birthday') ? account.birthday : null;
  // OIDC birthdate: YYYY-MM-DD, 0000-MM-DD without the year, YYYY without the day.
  if (day !== null) out.birthdate = `${year ?? '0000'}-${day.slice(0, 2)}-${day.slice(2, 4)}`;
  else if (year !== null) out.birthdate = year;
  if (agreed('phone_number') && account.phoneNumber !== null) {
    out.phone_number = account.phoneNumber;
    out.phone_number_verified = true;
  }
  return out;
}
