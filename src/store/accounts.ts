import type { Kysely, Selectable } from 'kysely';
import type { AccountsTable, DB } from '../db/schema.js';
import type { Account } from '../core/model.js';
import { passwordForStorage } from '../core/passwords.js';
import { issueIdsAbove, withIssuedId } from '../db/ids.js';
import { byCodePoint } from '../db/dialect.js';

export type { Account };

export type AccountInput = Partial<Omit<Account, 'createdAt' | 'passwordHash'>> & {
  /** Plaintext, or a hash in the stored format (state import); stored hashed either way. */
  password?: string;
};

/** A person as JSON (control plane bodies, state-format rows); booleans may be 0/1. */
export interface AccountJson {
  id?: number;
  email?: string;
  password?: string;
  nickname?: string;
  profile_image_url?: string | null;
  thumbnail_image_url?: string | null;
  name?: string | null;
  gender?: 'female' | 'male' | null;
  birthyear?: string | null;
  birthday?: string | null;
  birthday_type?: 'SOLAR' | 'LUNAR' | null;
  is_leap_month?: boolean | 0 | 1;
  phone_number?: string | null;
  is_korean?: boolean | 0 | 1 | null;
  email_verified?: boolean | 0 | 1;
  talk_user?: boolean | 0 | 1;
  story_user?: boolean | 0 | 1;
}

export function accountInputFromJson(j: AccountJson): AccountInput {
  const bool = (v: boolean | 0 | 1 | undefined) => (v === undefined ? undefined : Boolean(v));
  return {
    id: j.id,
    email: j.email,
    password: j.password,
    nickname: j.nickname,
    profileImageUrl: j.profile_image_url,
    thumbnailImageUrl: j.thumbnail_image_url,
    name: j.name,
    gender: j.gender,
    birthyear: j.birthyear,
    birthday: j.birthday,
    birthdayType: j.birthday_type,
    isLeapMonth: bool(j.is_leap_month),
    phoneNumber: j.phone_number,
    isKorean: j.is_korean === undefined || j.is_korean === null ? j.is_korean : Boolean(j.is_korean),
    emailVerified: bool(j.email_verified),
    talkUser: bool(j.talk_user),
    storyUser: bool(j.story_user),
  };
}

export function toAccount(row: Selectable<AccountsTable>): Account {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password,
    nickname: row.nickname,
    profileImageUrl: row.profile_image_url,
    thumbnailImageUrl: row.thumbnail_image_url,
    name: row.name,
    gender: row.gender as Account['gender'],
    birthyear: row.birthyear,
    birthday: row.birthday,
    birthdayType: row.birthday_type as Account['birthdayType'],
    isLeapMonth: row.is_leap_month === 1,
    phoneNumber: row.phone_number,
    isKorean: row.is_korean === null ? null : row.is_korean === 1,
    emailVerified: row.email_verified === 1,
    talkUser: row.talk_user === 1,
    storyUser: row.story_user === 1,
    createdAt: row.created_at,
  };
}

function columns(input: AccountInput): Partial<Selectable<AccountsTable>> {
  const out: Partial<Selectable<AccountsTable>> = {};
  const set = <K extends keyof AccountsTable>(k: K, v: AccountsTable[K] | undefined) => {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  };
  const bool = (v: boolean | undefined) => (v === undefined ? undefined : v ? 1 : 0) as 0 | 1 | undefined;
  set('email', input.email);
  set('nickname', input.nickname);
  set('profile_image_url', input.profileImageUrl);
  set('thumbnail_image_url', input.thumbnailImageUrl);
  set('name', input.name);
  set('gender', input.gender);
  set('birthyear', input.birthyear);
  set('birthday', input.birthday);
  set('birthday_type', input.birthdayType);
  set('is_leap_month', bool(input.isLeapMonth));
  set('phone_number', input.phoneNumber);
  if (input.isKorean !== undefined) out.is_korean = input.isKorean === null ? null : input.isKorean ? 1 : 0;
  set('email_verified', bool(input.emailVerified));
  set('talk_user', bool(input.talkUser));
  set('story_user', bool(input.storyUser));
  return out;
}

export async function createAccount(db: Kysely<DB>, input: AccountInput, now: number): Promise<Account> {
  // An id given by the caller: the ids the store issues later pass it (db/ids.ts). An issued
  // id can still meet one another instance was given at the same moment: drawn again.
  if (input.id !== undefined) {
    await issueIdsAbove(db, 'id', input.id);
    return insertAccount(db, input, input.id, now);
  }
  return withIssuedId(db, 'id', 'accounts', (id) => insertAccount(db, input, id, now));
}

async function insertAccount(db: Kysely<DB>, input: AccountInput, id: number, now: number): Promise<Account> {
  const row: Selectable<AccountsTable> = {
    id,
    email: `person${id}@kapibara.test`,
    password: await passwordForStorage(input.password),
    nickname: `Person ${id}`,
    profile_image_url: null,
    thumbnail_image_url: null,
    name: null,
    gender: null,
    birthyear: null,
    birthday: null,
    birthday_type: null,
    is_leap_month: 0,
    phone_number: null,
    is_korean: null,
    email_verified: 1,
    talk_user: 1,
    story_user: 1,
    created_at: now,
    ...columns(input),
  };
  await db.insertInto('accounts').values(row).execute();
  return toAccount(row);
}

export async function updateAccount(db: Kysely<DB>, id: number, input: AccountInput): Promise<Account | undefined> {
  const set = columns(input);
  if (input.password !== undefined) set.password = await passwordForStorage(input.password);
  if (Object.keys(set).length > 0) await db.updateTable('accounts').set(set).where('id', '=', id).execute();
  return findAccountById(db, id);
}

export async function findAccountById(db: Kysely<DB>, id: number): Promise<Account | undefined> {
  const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toAccount(row);
}

/** The nicknames of the given people (those that exist), by primary key: one statement however many. */
export async function nicknamesOf(db: Kysely<DB>, ids: readonly number[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await db.selectFrom('accounts').select(['id', 'nickname']).where('id', 'in', unique).execute();
  return new Map(rows.map((r) => [Number(r.id), r.nickname]));
}

export async function findAccountByEmail(db: Kysely<DB>, email: string): Promise<Account | undefined> {
  const row = await db.selectFrom('accounts').selectAll().where('email', '=', email).executeTakeFirst();
  return row && toAccount(row);
}

/**
 * People by id, from the one after `after`: at most `limit`. A page costs its rows (the
 * primary key's range), whatever the table holds; ids a page has passed never come again.
 */
export async function listAccounts(db: Kysely<DB>, after: number | undefined, limit: number): Promise<Account[]> {
  let q = db.selectFrom('accounts').selectAll();
  if (after !== undefined) q = q.where('id', '>', after);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map(toAccount);
}

/**
 * People the console's search finds for `text`: the person with that id, the one with that
 * email, and those whose nickname starts with it (code point by code point, the index
 * `accounts_nickname` of migration 060), by nickname then id, at most `limit`. `after` (the
 * nickname and id of the last match shown) gives the matches after it, by nickname only.
 */
export async function searchAccounts(db: Kysely<DB>, text: string, limit: number, after?: { nickname: string; id: number }): Promise<Account[]> {
  const found = new Map<number, Account>();
  const id = /^\d{1,16}$/.test(text) ? Number(text) : undefined;
  const exactly = (row: { id: number; email: string | null }) => (id !== undefined && Number(row.id) === id) || row.email === text;
  if (!after) {
    const exact = await db
      .selectFrom('accounts')
      .selectAll()
      .where((eb) => (id !== undefined && Number.isSafeInteger(id) ? eb.or([eb('id', '=', id), eb('email', '=', text)]) : eb('email', '=', text)))
      .execute();
    for (const row of exact) found.set(Number(row.id), toAccount(row));
  }
  const nickname = byCodePoint(db, 'nickname');
  // Every string starting with `text` sorts from `text` up to `text` followed by the last code point.
  let byNickname = db
    .selectFrom('accounts')
    .selectAll()
    .where(nickname, '>=', text)
    .where(nickname, '<', `${text}\u{10FFFF}`);
  // A later page goes on after the last match shown, by (nickname, id): the index's order.
  if (after) {
    byNickname = byNickname.where(nickname, '>=', after.nickname).where((eb) => eb.or([eb(nickname, '>', after.nickname), eb('id', '>', after.id)]));
  }
  // Past the first page the (at most two) exact matches are skipped: read as many more.
  const rows = await byNickname.orderBy(nickname).orderBy('id').limit(after ? limit + 2 : limit).execute();
  // Exact matches were shown first, on the first page: they are not shown again after it.
  for (const row of rows) if (found.size < limit && !(after && exactly(row))) found.set(Number(row.id), toAccount(row));
  return [...found.values()];
}

export async function deleteAccount(db: Kysely<DB>, id: number): Promise<boolean> {
  const res = await db.deleteFrom('accounts').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Kakao's age ranges: `0~9`, `10~14`, `15~19`, `20~29` … `80~89`, `90~`. */
export function ageRange(birthyear: string | null, nowMs: number): string | undefined {
  if (!birthyear) return undefined;
  const age = new Date(nowMs).getUTCFullYear() - Number(birthyear);
  if (!Number.isFinite(age) || age < 0) return undefined;
  if (age < 10) return '0~9';
  if (age < 15) return '10~14';
  if (age < 20) return '15~19';
  if (age >= 90) return '90~';
  const decade = Math.floor(age / 10) * 10;
  return `${decade}~${decade + 9}`;
}
