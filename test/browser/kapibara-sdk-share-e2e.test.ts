import { it } from '../helpers/node-test.js';
import assert from 'node:assert/strict';
import { forEachStore, type Harness } from '../helpers/harness.js';
import { SEED_TEMPLATES } from '../fixtures/sharing.js';
import { DEFAULT_SAMPLES, TEXT } from './seed004-samples.js';
import { pickAndSend, receiver, sharerPopup } from './sharer.js';
import { type Chat, sdkShareWorld } from './sdk-share-world.js';

/** Seed 004's default-template samples (createDefaultButton and sendDefault) with Kapibara's SDK, end to end (sdk-share-world.ts). */

forEachStore('Kapibara SDK sharing end to end: default templates (seed 004)', (h: Harness) => {
  const world = sdkShareWorld(h);
  const { open, share } = world;
  const defaults = {
    feed: { sample: DEFAULT_SAMPLES.feed, template: (t: any) => assert.deepEqual(t, SEED_TEMPLATES.feed), bubble: /Dessert pictures[\s\S]*Americano, bread, cake[\s\S]*View on Web[\s\S]*View on App/ },
    list: { sample: DEFAULT_SAMPLES.list, template: (t: any) => assert.deepEqual(t, SEED_TEMPLATES.list), bubble: /WEEKLY MAGAZINE[\s\S]*My hobby, Table tennis[\s\S]*Inspiring pictures/ },
    location: { sample: DEFAULT_SAMPLES.location, template: (t: any) => assert.deepEqual(t, SEED_TEMPLATES.location), bubble: /Kakao Pangyo Office Cafe Talk 235, Pangyoyeok-ro[\s\S]*Cherry Blossom Latte/ },
    commerce: { sample: DEFAULT_SAMPLES.commerce, template: (t: any) => assert.deepEqual(t, SEED_TEMPLATES.commerce), bubble: /Kakao Mini 90000원[\s\S]*10%[\s\S]*Purchase/ },
    // The seed's text (337 characters) is stored as sent; the bubble shows its first 200, then an ellipsis.
    // A text template gets the platform's default button when it has none.
    text: {
      sample: TEXT,
      template: (t: any) => assert.deepEqual(t, { ...SEED_TEMPLATES.text, buttons: [{ title: '자세히 보기', link: SEED_TEMPLATES.text.link }] }),
      bubble: /The Text template provided as a default template[^…]*If you use the Ka…\s*자세히 보기/,
    },
  };
  const chats: Chat[] = ['friend', 'group', 'me'];

  it('createDefaultButton and sendDefault: feed, list, location, commerce and text, each to a friend, a group chat or me', async () => {
    const s = await open();
    let i = 0;
    for (const fn of ['createDefaultButton', 'sendDefault']) {
      for (const [type, d] of Object.entries(defaults)) {
        await share(s, { fn, sample: d.sample, label: `${fn}-${type}`, chat: chats[i++ % 3], template: d.template, bubble: d.bubble });
      }
    }
    assert.equal(world.hook().calls.length, 10);
    await s.context.close();
  });

  it("each share's callback runs once, for its own share, however soon the next share follows", async () => {
    const s = await open();
    // SDK v1 stops listening only when a once-a-second check sees its popup closed. Without
    // that check (never run here), a listener that outlived its share would run again.
    await s.page.evaluate(() => {
      window.setInterval = (() => 0) as unknown as typeof window.setInterval;
    });
    for (const [i, label] of ['first', 'second', 'third'].entries()) {
      const popup = await sharerPopup(s.page, () =>
        s.page.evaluate(([l, sample]) => window.Kakao.Share.sendDefault({ ...sample, callback: () => (window as any).sent.push(l) }), [label, TEXT] as const),
      );
      await pickAndSend(popup, [receiver.me], i === 0 ? { signInAs: s.w.sender } : {});
      await s.page.waitForFunction((n) => (window as any).sent.length >= n, i + 1, { polling: 50 });
    }
    // A 'sent' that is not from the sharer window showing the share runs nothing either.
    await s.page.evaluate(() => window.postMessage('sent', '*'));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await s.page.evaluate(() => (window as any).sent), ['first', 'second', 'third']);
    await s.context.close();
  });

  it('a text over 2,048 characters ends on the failure page; nothing is sent', async () => {
    const s = await open();
    const popup = await sharerPopup(s.page, () => s.page.evaluate((sample) => window.Kakao.Link.sendDefault(sample), { ...TEXT, text: 'x'.repeat(2049) }));
    await popup.waitForSelector('#error-code');
    assert.equal(await popup.textContent('#error-code'), '-2');
    assert.equal(await popup.textContent('#error-msg'), 'invalid template_object.text: must be at most 2048 characters.');
    assert.equal((await h.control('GET', `/accounts/${s.w.sender.id}/chats`)).chats.length, 0);
    await s.context.close();
  });
});
