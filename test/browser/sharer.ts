import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import type { TestAccount } from '../helpers/harness.js';

/**
 * Driving Kakao Talk sharing's web sharer in Chromium the way a person does, for every
 * browser test that shares (a hand-written SDK v2 form, Kapibara's SDK, Kakao's SDK v1):
 * catch the popup the share opens, sign in on the sharer when asked, tick chats in the
 * picker, press Send and wait for the popup to close itself; then read the result where a
 * person would see it (the console's bubble) and where the app's server does (the webhook).
 * Every wait is on an event (a popup, a selector, a close) with Playwright's bounded timeout.
 */

/** The picker's checkbox values: the memo chat, a friend's 1:1 chat, a group chat. */
export const receiver = {
  me: 'me',
  friend: (a: TestAccount) => `f${a.id}`,
  group: (g: { id: number }) => `g${g.id}`,
};

/** Runs `action` (a click, an SDK call) and returns the popup it opened; the listener is set before the action runs. */
export async function sharerPopup(page: Page, action: () => Promise<unknown>): Promise<Page> {
  const popupEvent = page.waitForEvent('popup');
  await action();
  return popupEvent;
}

/** On the sharer's login page (a person not signed in on the sharer's host): signs in as `account` by picking them. */
export async function signInOnSharer(popup: Page, account: TestAccount): Promise<void> {
  await popup.waitForSelector(`button[data-account-id="${account.id}"]`);
  await popup.click(`button[data-account-id="${account.id}"]`);
}

/** Waits for the picker, ticks `receivers` (values of `receiver`) and sends; resolves once the popup has closed itself. */
export async function pickAndSend(popup: Page, receivers: string[], options: { signInAs?: TestAccount } = {}): Promise<void> {
  if (options.signInAs) await signInOnSharer(popup, options.signInAs);
  await popup.waitForSelector('#picker');
  for (const r of receivers) await popup.check(`[data-receiver="${r}"]`);
  assert.equal(await popup.textContent('#count'), `${receivers.length} selected`);
  const closed = popup.waitForEvent('close');
  await popup.click('#send');
  await closed;
}

/** The key of a chat on a person's console page: `memo`, the friend's account id, `g<group chat id>`. */
export type ConsoleChat = 'memo' | TestAccount | { id: number; title: string };

function chatKey(chat: ConsoleChat): string {
  if (chat === 'memo') return 'memo';
  return 'title' in chat ? `g${chat.id}` : String(chat.id);
}

/** Opens `person`'s console page and returns the newest message bubble of `chat` (bubbles follow their chat's heading, newest first). */
export async function consoleBubble(context: BrowserContext, kapibara: string, person: TestAccount, chat: ConsoleChat): Promise<{ page: Page; bubble: Locator; heading: Locator }> {
  const page = await context.newPage();
  await page.setViewportSize({ width: 900, height: 900 });
  await page.goto(`${kapibara}/_kapibara/console/people/${person.id}`);
  const key = chatKey(chat);
  const heading = page.locator(`h3[data-chat="${key}"]`);
  await heading.waitFor();
  const bubble = page.locator(`xpath=//h3[@data-chat="${key}"]/following-sibling::div[contains(concat(" ", @class, " "), " bubble ")][1]`);
  return { page, bubble, heading };
}

export interface WebhookCall {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A success webhook call's parameters: the query of a GET, the form body of a POST. */
export function webhookParams(call: WebhookCall): URLSearchParams {
  return call.method === 'GET' ? new URL(call.url, 'http://receiver').searchParams : new URLSearchParams(call.body);
}

/** The documented headers and parameters of one success webhook call (seed 004, products notes §1). */
export function assertWebhookCall(
  call: WebhookCall,
  expected: { adminKey: string; args: Record<string, string>; chatType: 'MemoChat' | 'DirectChat' | 'MultiChat'; templateId: number | string },
): void {
  assert.equal(call.headers.authorization, `KakaoAK ${expected.adminKey}`);
  assert.equal(call.headers['user-agent'], 'KakaoOpenAPI/1.0');
  assert.match(String(call.headers['x-kakao-resource-id']), /^[\w-]{24}$/);
  const params = Object.fromEntries(webhookParams(call));
  const hash = params.HASH_CHAT_ID;
  assert.match(hash ?? '', /^[0-9a-f]{32}$/);
  assert.deepEqual(params, { ...expected.args, CHAT_TYPE: expected.chatType, HASH_CHAT_ID: hash, TEMPLATE_ID: String(expected.templateId) });
}
