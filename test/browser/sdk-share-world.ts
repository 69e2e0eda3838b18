import { after, before } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Harness, TestAccount } from '../helpers/harness.js';
import { launchChromium } from '../helpers/browser.js';
import { SEED_SITE, eventually, sharingWorld, webhookReceiver, type SharingWorld } from '../fixtures/sharing.js';
import { AppSite } from './sdk-pages.js';
import { assertWebhookCall, consoleBubble, pickAndSend, receiver, sharerPopup } from './sharer.js';

/**
 * The world of the end-to-end sharing tests with Kapibara's SDK (kapibara-sdk-share-*.test.ts):
 * every JavaScript sample of seed 004, shared end to end with Kapibara's SDK
 * (/sdk/js/kakao.js): the page calls Kakao.Link.* as the seed shows (with a `callback` and
 * `serverCallbackArgs` naming the sample), the sharer popup opens, the person signs in the
 * first time, picks "me", a friend or a group chat and sends. Then: the message is stored in
 * that chat (control plane), its bubble is drawn in the console, the page's callback ran
 * (the sharer's postMessage 'sent'), and the app's success webhook reached a real local
 * receiver with the documented headers and parameters.
 *
 * Two departures from the seed's text, both forced: the scrap samples scrape the app's own
 * page (the seed's https://developers.kakao.com is not reachable offline), and the text
 * sample's text is longer than the 200 characters the text template allows, so as written it
 * ends on the sharer's failure page (asserted) and is shared cut to 200 characters.
 */

export type Chat = 'me' | 'friend' | 'group';
const CHAT_TYPE = { me: 'MemoChat', friend: 'DirectChat', group: 'MultiChat' } as const;

export interface Session {
  w: SharingWorld;
  context: BrowserContext;
  page: Page;
  signedIn: boolean;
  sent: number;
}

/** Registers the suite's browser, app site and webhook receiver (before/after) and returns the steps its tests take. */
export function sdkShareWorld(h: Harness) {
  let browser: Browser;
  let kapibara = '';
  const site = new AppSite();
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;

  before(async () => {
    browser = await launchChromium();
    kapibara = await h.listen();
    await site.start();
    hook = await webhookReceiver();
  });
  after(async () => {
    await browser?.close();
    await site.stop();
    await hook?.close();
  });

  async function open(): Promise<Session> {
    site.sdkSrc = `${kapibara}/sdk/js/kakao.js`;
    const w = await sharingWorld(h, { web_domains: [site.origin, SEED_SITE] });
    await h.control('PUT', `/apps/${w.app.id}/sharing_webhook`, { url: `${hook.origin}/kakao/shared`, method: 'POST' });
    hook.calls.length = 0;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${site.origin}/page`);
    await page.evaluate((key) => {
      (window as any).sent = [];
      window.Kakao.init(key);
    }, w.app.javascript_key);
    return { w, context, page, signedIn: false, sent: 0 };
  }

  /** Calls `Kakao.<ns>.<fn>(sample + callback + serverCallbackArgs)`, or makes the button and clicks it. */
  async function call(s: Session, ns: 'Link' | 'Share', fn: string, sample: object, label: string): Promise<Page> {
    const button = fn.startsWith('create');
    return sharerPopup(s.page, async () => {
      await s.page.evaluate(
        ([n, f, settings, l, isButton]) => {
          const withCallback = { ...(settings as object), callback: () => (window as any).sent.push(l), serverCallbackArgs: { sample: l } };
          if (!isButton) return window.Kakao[n as string][f as string](withCallback);
          const b = document.createElement('button');
          b.id = `share-${l}`;
          document.body.appendChild(b);
          window.Kakao[n as string][f as string]({ container: `#share-${l}`, ...withCallback });
        },
        [ns, fn, sample, label, button] as const,
      );
      if (button) await s.page.click(`#share-${label}`);
    });
  }

  /** The newest message of the chat, as the control plane lists it, and who to look at it as in the console. */
  async function stored(w: SharingWorld, chat: Chat): Promise<{ message: any; viewer: TestAccount; consoleChat: 'memo' | TestAccount | SharingWorld['group'] }> {
    if (chat === 'me') return { message: (await h.control('GET', `/accounts/${w.sender.id}/chats/memo/messages`)).messages[0], viewer: w.sender, consoleChat: 'memo' };
    if (chat === 'friend') return { message: (await h.control('GET', `/accounts/${w.ryan.id}/chats/${w.sender.id}/messages`)).messages[0], viewer: w.ryan, consoleChat: w.sender };
    return { message: (await h.control('GET', `/group_chats/${w.group.id}/messages`)).messages[0], viewer: w.apeach, consoleChat: w.group };
  }

  /** One share of one sample to one chat, and everything that must follow from it. */
  async function share(
    s: Session,
    step: { ns?: 'Link' | 'Share'; fn: string; sample: object; label: string; chat: Chat; template: (t: any) => void; bubble: RegExp },
  ): Promise<void> {
    const popup = await call(s, step.ns ?? 'Link', step.fn, step.sample, step.label);
    const target = step.chat === 'me' ? receiver.me : step.chat === 'friend' ? receiver.friend(s.w.ryan) : receiver.group(s.w.group);
    await pickAndSend(popup, [target], s.signedIn ? {} : { signInAs: s.w.sender });
    s.signedIn = true;

    // The page's callback ran: the sharer told the opener 'sent'.
    s.sent += 1;
    await s.page.waitForFunction((n) => (window as any).sent.length === n, s.sent, { polling: 100 });
    assert.equal(await s.page.evaluate(() => (window as any).sent.at(-1)), step.label);

    // Stored in the chat, from the sender, through the app.
    const { message, viewer, consoleChat } = await stored(s.w, step.chat);
    assert.equal(message.sender_account_id, s.w.sender.id);
    assert.equal(message.app_id, s.w.app.id);
    step.template(message.template);

    // The bubble a person in that chat sees in the console.
    const { page, bubble } = await consoleBubble(s.context, kapibara, viewer, consoleChat);
    assert.match((await bubble.textContent()) ?? '', step.bubble);
    await page.close();

    // The success webhook, once for the one chat, with the sample's serverCallbackArgs.
    const hookCall = await eventually(async () => hook.calls.find((c) => new URLSearchParams(c.body).get('sample') === step.label));
    assertWebhookCall(hookCall, { adminKey: s.w.app.admin_key, args: { sample: step.label }, chatType: CHAT_TYPE[step.chat], templateId: message.template_id });
  }

  return { site, kapibara: () => kapibara, hook: () => hook, open, share, stored };
}
