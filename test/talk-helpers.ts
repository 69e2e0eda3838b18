import type { Harness, TestAccount, TestApp } from './helpers/harness.js';

/** Shared set-up for the Talk and message tests. */

export const ALL_TALK_SCOPES = ['profile_nickname', 'profile_image', 'friends', 'talk_message'];

/** The consent items a Talk app turns on: an item left off is -3 on the APIs that need it. */
export const TALK_CONSENT_ITEMS = { profile_nickname: 'required', profile_image: 'optional', friends: 'optional', talk_message: 'optional' };

/** An app with the Talk consent items on (`body` may add or override fields). */
export function talkApp(h: Harness, body: Record<string, unknown> = {}): Promise<TestApp> {
  return h.createApp({ consent_items: TALK_CONSENT_ITEMS, ...body });
}

/** The web domains of seed 001's samples, so its links pass the registered-domain rule. */
export const SEED_DOMAINS = ['www.daum.net', 'm.daum.net', 'dev.kakao.com', 'style.kakao.com'];

export type Member = TestAccount & { token: string; user_id: number; uuid: string };

/** A person linked to `app` who agreed to `scopes`. */
export async function member(h: Harness, app: TestApp, body: Record<string, unknown> = {}, scopes = ALL_TALK_SCOPES): Promise<Member> {
  const account = await h.createAccount(body);
  const t = await h.token(app, account, scopes);
  const link = await h.control('GET', `/apps/${app.id}/users/${account.id}`);
  return { ...account, token: t.access_token, user_id: t.user_id, uuid: link.uuid };
}

export async function messagesOf(h: Harness, account: { id: number }, chat?: string, paging = '') {
  const path = chat ? `/accounts/${account.id}/chats/${chat}/messages` : `/accounts/${account.id}/messages`;
  return h.control('GET', `${path}${paging}`);
}
