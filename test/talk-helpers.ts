import type { Harness, TestAccount, TestApp } from './helpers/harness.js';

/** Shared set-up for the Talk and message tests. */

export const ALL_TALK_SCOPES = ['profile_nickname', 'profile_image', 'friends', 'talk_message'];

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
