import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { assertApiError, forEachStore } from './helpers/harness.js';
import { SEED_DOMAINS, member, messagesOf, talkApp } from './talk-helpers.js';

// The four default-template samples of seed 001, verbatim.
const FEED = {
  object_type: 'feed',
  content: {
    title: '디저트 사진',
    description: '아메리카노, 빵, 케익',
    image_url: 'http://mud-kage.kakao.co.kr/dn/NTmhS/btqfEUdFAUf/FjKzkZsnoeE4o19klTOVI1/openlink_640x640s.jpg',
    image_width: 640,
    image_height: 640,
    link: { web_url: 'http://www.daum.net', mobile_web_url: 'http://m.daum.net', android_execution_params: 'contentId=100', ios_execution_params: 'contentId=100' },
  },
  social: { like_count: 100, comment_count: 200, shared_count: 300, view_count: 400, subscriber_count: 500 },
  buttons: [
    { title: '웹으로 이동', link: { web_url: 'http://www.daum.net', mobile_web_url: 'http://m.daum.net' } },
    { title: '앱으로 이동', link: { android_execution_params: 'contentId=100', ios_execution_params: 'contentId=100' } },
  ],
};

const listContent = (n: number, image: string) => ({
  title: `콘텐츠 ${n}`,
  description: '매거진',
  image_url: image,
  image_width: 640,
  image_height: 640,
  link: {
    web_url: `http://www.daum.net/contents/${n}`,
    mobile_web_url: `http://m.daum.net/contents/${n}`,
    android_execution_params: `/contents/${n}`,
    ios_execution_params: `/contents/${n}`,
  },
});

const LIST = {
  object_type: 'list',
  header_title: 'WEEKELY MAGAZINE',
  header_link: { web_url: 'http://www.daum.net', mobile_web_url: 'http://m.daum.net', android_execution_params: 'main', ios_execution_params: 'main' },
  contents: [
    { ...listContent(1, 'http://mud-kage.kakao.co.kr/dn/QNvGY/btqfD0SKT9m/k4KUlb1m0dKPHxGV8WbIK1/openlink_640x640s.jpg'), title: '자전거 라이더를 위한 공간' },
    { ...listContent(2, 'http://mud-kage.kakao.co.kr/dn/boVWEm/btqfFGlOpJB/mKsq9z6U2Xpms3NztZgiD1/openlink_640x640s.jpg'), title: '비쥬얼이 끝내주는 오레오 카푸치노' },
    { ...listContent(3, 'http://mud-kage.kakao.co.kr/dn/NTmhS/btqfEUdFAUf/FjKzkZsnoeE4o19klTOVI1/openlink_640x640s.jpg'), title: '감성이 가득한 분위기' },
  ],
  buttons: [
    { title: '웹으로 이동', link: { web_url: 'http://www.daum.net', mobile_web_url: 'http://m.daum.net' } },
    { title: '앱으로 이동', link: { android_execution_params: 'main', ios_execution_params: 'main' } },
  ],
};

const LOCATION = {
  object_type: 'location',
  content: {
    title: '카카오 판교오피스',
    description: '카카오 판교오피스 위치입니다.',
    image_url: 'https://mud-kage.kakao.com/dn/drTdbB/bWYf06POFPf/owUHIt7K7NoGD0hrzFLeW0/kakaolink40_original.png',
    image_width: 800,
    image_height: 800,
    link: { web_url: 'http://dev.kakao.com', mobile_web_url: 'http://dev.kakao.com/mobile', android_execution_params: 'platform=android', ios_execution_params: 'platform=ios' },
  },
  buttons: [{ title: '웹으로 보기', link: { web_url: 'http://dev.kakao.com', mobile_web_url: 'http://dev.kakao.com/mobile' } }],
  address: '경기 성남시 분당구 판교역로 235 에이치스퀘어 N동 7층',
  address_title: '카카오 판교오피스',
};

const COMMERCE = {
  object_type: 'commerce',
  content: {
    title: 'Ivory long dress (4 Color)',
    image_url: 'http://mud-kage.kakao.co.kr/dn/RY8ZN/btqgOGzITp3/uCM1x2xu7GNfr7NS9QvEs0/kakaolink40_original.png',
    image_width: 640,
    image_height: 640,
    link: {
      web_url: 'https://style.kakao.com/main/women/contentId=100',
      mobile_web_url: 'https://style.kakao.com/main/women/contentId=100',
      android_execution_params: 'contentId=100',
      ios_execution_params: 'contentId=100',
    },
  },
  commerce: { regular_price: 208800, discount_price: 146160, discount_rate: 30 },
  buttons: [
    {
      title: '구매하기',
      link: {
        web_url: 'https://style.kakao.com/main/women/contentId=100/buy',
        mobile_web_url: 'https://style.kakao.com/main/women/contentId=100/buy',
        android_execution_params: 'contentId=100&buy=true',
        ios_execution_params: 'contentId=100&buy=true',
      },
    },
    {
      title: '공유하기',
      link: {
        web_url: 'https://style.kakao.com/main/women/contentId=100/share',
        mobile_web_url: 'https://style.kakao.com/main/women/contentId=100/share',
        android_execution_params: 'contentId=100&share=true',
        ios_execution_params: 'contentId=100&share=true',
      },
    },
  ],
};

const TEXT = { object_type: 'text', text: '텍스트 영역입니다. 최대 200자 표시 가능합니다.', link: { web_url: 'https://developers.kakao.com', mobile_web_url: 'https://developers.kakao.com' } };
// Seed 004's Text-template sample (createDefaultButton, sendDefault): 337 characters.
const SEED004_TEXT =
  'The Text template provided as a default template can contain text up to 200 characters. The Text template has a text area and a default button. You can also add an additional button. If you use the Kakao Talk sharing, you can send a message with a more extended form of templates, such as sending multiple images and profile information.';
const CALENDAR = { object_type: 'calendar', id: 'event-1', id_type: 'event', content: { title: '일정', image_url: 'http://k.kakao.com/i.png', link: { mobile_web_url: 'http://m.daum.net' } } };

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
function edit<T>(base: T, change: (t: any) => void): T {
  const t = clone(base);
  change(t);
  return t;
}

forEachStore('Message templates', (h) => {
  async function setup() {
    const app = await talkApp(h, { web_domains: [...SEED_DOMAINS, 'developers.kakao.com'] });
    const me = await member(h, app, { nickname: 'Me' });
    return { app, me };
  }

  it('sends every default-template sample of seed 001 to me, stored as the final template', async () => {
    const { me } = await setup();
    for (const template of [FEED, LIST, LOCATION, COMMERCE]) {
      const res = await h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: template });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], 'application/json;charset=UTF-8');
      assert.deepEqual(res.json(), { result_code: 0 });
    }
    const { messages, total_count } = await messagesOf(h, me, 'memo');
    assert.equal(total_count, 4);
    assert.deepEqual(
      messages.map((m: any) => m.template_type),
      ['commerce', 'location', 'list', 'feed'],
    );
    assert.deepEqual(messages[3].template, FEED);
    assert.deepEqual(messages[2].template, LIST);
    assert.deepEqual(messages[1].template, LOCATION);
    assert.deepEqual(messages[0].template, COMMERCE);
  });

  it('accepts text and calendar templates and applies the default button', async () => {
    const { me } = await setup();
    for (const template of [TEXT, CALENDAR]) {
      const res = await h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: template });
      assert.deepEqual(res.json(), { result_code: 0 }, res.body);
    }
    const { messages } = await messagesOf(h, me, 'memo');
    assert.deepEqual(messages[1].template, { ...TEXT, buttons: [{ title: '자세히 보기', link: TEXT.link }] });
    assert.deepEqual(messages[0].template, { ...CALENDAR, buttons: [{ title: '자세히 보기', link: CALENDAR.content.link }] });
  });

  it('uses buttons over button_title, button_title over the default title', async () => {
    const { me } = await setup();
    const send = (t: object) => h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: t });
    const { buttons: _b, ...bare } = FEED;
    await send(bare);
    await send({ ...bare, button_title: '보러 가기' });
    await send({ ...FEED, button_title: '무시됨' });
    const { buttons: _l, ...bareList } = LIST;
    await send({ ...bareList, button_title: '더 보기' });
    const { messages } = await messagesOf(h, me, 'memo');
    assert.deepEqual(messages[3].template.buttons, [{ title: '자세히 보기', link: FEED.content.link }]);
    assert.deepEqual(messages[2].template.buttons, [{ title: '보러 가기', link: FEED.content.link }]);
    assert.deepEqual(messages[1].template.buttons, FEED.buttons);
    assert.equal('button_title' in messages[1].template, false);
    assert.deepEqual(messages[0].template.buttons, [{ title: '더 보기', link: LIST.header_link }]);
  });

  it('seed 001 samples sent by an app that registered none of their domains: sent, with those links dropped as sharing drops them', async () => {
    // Kakao sends the message and drops each web link off the app's web domains (sharing
    // validation answers the same link with a warning_msg, wire facts products §1.1).
    const app = await talkApp(h, { web_domains: ['http://localhost:3000', 'www.daum.net'] });
    const me = await member(h, app, { nickname: 'Me' });
    const friend = await member(h, app, { nickname: 'Friend' });
    await h.befriend(me, friend);
    for (const template of [FEED, LIST, LOCATION, COMMERCE, TEXT]) {
      const res = await h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: template });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { result_code: 0 });
    }
    const { messages } = await messagesOf(h, me, 'memo');
    assert.equal(messages.length, 5);
    // www.daum.net is registered: kept; m.daum.net is not: dropped, the rest of the link kept.
    assert.deepEqual(messages[4].template, {
      ...FEED,
      content: { ...FEED.content, link: { web_url: 'http://www.daum.net', android_execution_params: 'contentId=100', ios_execution_params: 'contentId=100' } },
      buttons: [
        { title: '웹으로 이동', link: { web_url: 'http://www.daum.net' } },
        FEED.buttons[1],
      ],
    });
    assert.deepEqual(messages[3].template.contents[0].link, { web_url: 'http://www.daum.net/contents/1', android_execution_params: '/contents/1', ios_execution_params: '/contents/1' });
    assert.deepEqual(messages[2].template.content.link, { android_execution_params: 'platform=android', ios_execution_params: 'platform=ios' });
    assert.deepEqual(messages[2].template.buttons, [{ title: '웹으로 보기', link: {} }]);
    assert.deepEqual(messages[1].template.buttons[0].link, { android_execution_params: 'contentId=100&buy=true', ios_execution_params: 'contentId=100&buy=true' });
    // A text template whose only link is off the domains: the message still goes, with no web link.
    assert.deepEqual(messages[0].template, { ...TEXT, link: {}, buttons: [{ title: '자세히 보기', link: {} }] });

    // Sending to friends and custom templates take the same path.
    const foreign = { object_type: 'text', text: 'hi', link: { web_url: 'https://other.example/', mobile_web_url: 'http://localhost:3000/m' } };
    let res = await h.kapi('POST', '/v1/api/talk/friends/message/default/send', me.token, { template_object: foreign, receiver_uuids: [friend.uuid] });
    assert.deepEqual(res.json(), { successful_receiver_uuids: [friend.uuid] }, res.body);
    const [received] = (await messagesOf(h, friend, String(me.id))).messages;
    assert.deepEqual(received.template, { object_type: 'text', text: 'hi', link: { mobile_web_url: 'http://localhost:3000/m' }, buttons: [{ title: '자세히 보기', link: { mobile_web_url: 'http://localhost:3000/m' } }] });
    // A stored template whose domain the app no longer registers.
    const custom = await h.control('POST', `/apps/${app.id}/templates`, { template: { object_type: 'text', text: '${T}', link: { web_url: 'http://www.daum.net/${T}' } } });
    await h.control('PATCH', `/apps/${app.id}`, { web_domains: ['http://localhost:3000'] });
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: custom.id, template_args: { T: 'x' } });
    assert.deepEqual(res.json(), { result_code: 0 }, res.body);
    const [latest] = (await messagesOf(h, me, 'memo')).messages;
    assert.deepEqual(latest.template, { object_type: 'text', text: 'x', link: {}, buttons: [{ title: '자세히 보기', link: {} }] });

    // The console shows the stored messages: no dropped link anywhere.
    const page = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${me.id}` });
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes('http://www.daum.net/contents/1'), 'a kept link is shown');
    for (const dropped of ['m.daum.net', 'dev.kakao.com', 'style.kakao.com', 'developers.kakao.com', 'www.daum.net/x']) assert.ok(!page.body.includes(dropped), dropped);
    const friendPage = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${friend.id}` });
    assert.ok(!friendPage.body.includes('other.example'));
  });

  it("seed 004's text sample (337 characters) is sent and stored as sent; the console shows the first 200 characters, then an ellipsis", async () => {
    const { me } = await setup();
    const template = { object_type: 'text', text: SEED004_TEXT, link: { mobile_web_url: 'https://developers.kakao.com', web_url: 'https://developers.kakao.com' } };
    const res = await h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: template });
    assert.deepEqual(res.json(), { result_code: 0 }, res.body);
    const [message] = (await messagesOf(h, me, 'memo')).messages;
    assert.equal(message.template.text, SEED004_TEXT);
    const page = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${me.id}` });
    assert.ok(page.body.includes(`<div>${SEED004_TEXT.slice(0, 200)}…</div>`), page.body);
    assert.ok(!page.body.includes(SEED004_TEXT.slice(0, 201)));
    // Characters are code points: 201 emoji are cut after the 200th, never inside one.
    await h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: { ...template, text: '😀'.repeat(201) } });
    const emoji = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${me.id}` });
    assert.ok(emoji.body.includes(`<div>${'😀'.repeat(200)}…</div>`));
    // 200 characters are shown whole.
    await h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: { ...template, text: 'y'.repeat(200) } });
    assert.ok((await h.inject({ method: 'GET', url: `/_kapibara/console/people/${me.id}` })).body.includes(`<div>${'y'.repeat(200)}</div>`));
  });

  it('rejects every template rule violation with -2 naming the field path', async () => {
    const { me } = await setup();
    const long = (n: number) => '가'.repeat(n);
    const cases: [string, unknown, string][] = [
      ['not JSON', '{"object_type": "feed",', 'template_object'],
      ['unknown type', { ...FEED, object_type: 'carousel' }, 'template_object.object_type'],
      ['no type', edit(FEED, (t) => delete t.object_type), 'template_object.object_type is required'],
      ['feed without content', edit(FEED, (t) => delete t.content), 'template_object.content is required'],
      ['content without title', edit(FEED, (t) => delete t.content.title), 'template_object.content.title is required'],
      ['content without image_url', edit(FEED, (t) => delete t.content.image_url), 'template_object.content.image_url is required'],
      ['image_url not a URL', edit(FEED, (t) => (t.content.image_url = 'picture')), 'template_object.content.image_url'],
      ['content without link', edit(FEED, (t) => delete t.content.link), 'template_object.content.link is required'],
      ['empty link', edit(FEED, (t) => (t.content.link = {})), 'template_object.content.link: at least one of'],
      ['web_url not a URL', edit(FEED, (t) => (t.content.link.web_url = 'www.daum.net')), 'template_object.content.link.web_url'],
      ['three buttons', edit(FEED, (t) => t.buttons.push(t.buttons[0])), 'template_object.buttons: at most 2 buttons'],
      ['button without title', edit(FEED, (t) => delete t.buttons[1].title), 'template_object.buttons[1].title is required'],
      ['button without link', edit(FEED, (t) => delete t.buttons[1].link), 'template_object.buttons[1].link is required'],
      ['button_title not a string', edit(FEED, (t) => { delete t.buttons; t.button_title = 7; }), 'template_object.button_title'],
      ['image_width not an integer', edit(FEED, (t) => (t.content.image_width = 'wide')), 'template_object.content.image_width'],
      ['social count not an integer', edit(FEED, (t) => (t.social.like_count = 1.5)), 'template_object.social.like_count'],
      ['item_content profile_text > 16', edit(FEED, (t) => (t.item_content = { profile_text: long(17) })), 'template_object.item_content.profile_text'],
      ['item_content title_image_text > 24', edit(FEED, (t) => (t.item_content = { title_image_text: long(25) })), 'template_object.item_content.title_image_text'],
      ['item_content category > 14', edit(FEED, (t) => (t.item_content = { title_image_category: long(15) })), 'template_object.item_content.title_image_category'],
      ['item_content 6 items', edit(FEED, (t) => (t.item_content = { items: Array(6).fill({ item: 'a', item_op: '1' }) })), 'template_object.item_content.items'],
      ['item_content item > 6', edit(FEED, (t) => (t.item_content = { items: [{ item: long(7), item_op: '1' }] })), 'template_object.item_content.items[0].item'],
      ['item_content sum > 6', edit(FEED, (t) => (t.item_content = { sum: long(7) })), 'template_object.item_content.sum'],
      ['item_content sum_op > 11', edit(FEED, (t) => (t.item_content = { sum_op: long(12) })), 'template_object.item_content.sum_op'],
      ['list of one', edit(LIST, (t) => t.contents.splice(1)), 'template_object.contents: must have 2 to 3 items'],
      ['list of four', edit(LIST, (t) => t.contents.push(t.contents[0])), 'template_object.contents: must have 2 to 3 items'],
      ['list header_title > 200', edit(LIST, (t) => (t.header_title = long(201))), 'template_object.header_title'],
      ['list without header_title', edit(LIST, (t) => delete t.header_title), 'template_object.header_title is required'],
      ['list without header_link', edit(LIST, (t) => delete t.header_link), 'template_object.header_link is required'],
      ['list content without link', edit(LIST, (t) => delete t.contents[1].link), 'template_object.contents[1].link is required'],
      ['location without address', edit(LOCATION, (t) => delete t.address), 'template_object.address is required'],
      ['location without content', edit(LOCATION, (t) => delete t.content), 'template_object.content is required'],
      ['location with two buttons', edit(LOCATION, (t) => t.buttons.push(t.buttons[0])), 'template_object.buttons: at most 1 button'],
      ['commerce without commerce', edit(COMMERCE, (t) => delete t.commerce), 'template_object.commerce is required'],
      ['commerce without regular_price', edit(COMMERCE, (t) => delete t.commerce.regular_price), 'template_object.commerce.regular_price is required'],
      ['rate and fixed discount', edit(COMMERCE, (t) => (t.commerce.fixed_discount_price = 1000)), 'template_object.commerce: discount_rate and fixed_discount_price'],
      ['discount rate over 100', edit(COMMERCE, (t) => (t.commerce.discount_rate = 150)), 'template_object.commerce.discount_rate'],
      ['negative price', edit(COMMERCE, (t) => (t.commerce.discount_price = -5)), 'template_object.commerce.discount_price'],
      ['commerce with description', edit(COMMERCE, (t) => (t.content.description = 'no')), 'template_object.content.description'],
      ['currency position 2', edit(COMMERCE, (t) => (t.commerce.currency_unit_position = 2)), 'template_object.commerce.currency_unit_position'],
      ['text > 2048', edit(TEXT, (t) => (t.text = long(2049))), 'invalid template_object.text: must be at most 2048 characters.'],
      ['text without text', edit(TEXT, (t) => delete t.text), 'template_object.text is required'],
      ['text without link', edit(TEXT, (t) => delete t.link), 'template_object.link is required'],
      ['calendar without id', edit(CALENDAR, (t) => delete t.id), 'template_object.id is required'],
      ['calendar bad id_type', edit(CALENDAR, (t) => (t.id_type = 'task')), 'template_object.id_type'],
      ['calendar without content', edit(CALENDAR, (t) => delete t.content), 'template_object.content is required'],
      ['template_object an array', [FEED], 'template_object'],
    ];
    for (const [what, template, msg] of cases) {
      const res = await h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: typeof template === 'string' ? template : JSON.stringify(template) } as Record<string, string>);
      assert.equal(res.statusCode, 400, `${what}: ${res.body}`);
      assertApiError(res, 400, -2, msg);
    }
    assertApiError(await h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, {}), 400, -2, 'template_object is required');
    assert.equal((await messagesOf(h, me)).total_count, 0);
    // The limits are inclusive: exactly 2,048 characters (code points: 2,048 emoji are 4,096 UTF-16 units) pass.
    for (const text of [long(2048), '😀'.repeat(2048)]) {
      const ok = await h.kapi('POST', '/v2/api/talk/memo/default/send', me.token, { template_object: { ...TEXT, text } });
      assert.deepEqual(ok.json(), { result_code: 0 });
    }
  });
});

forEachStore('Custom message templates', (h) => {
  const ARTICLE = {
    object_type: 'feed',
    content: {
      title: '${TITLE}',
      description: '기사 ${ARTICLE_ID}번',
      image_url: 'http://k.kakao.com/${ARTICLE_ID}.png',
      image_width: '${WIDTH}',
      link: { web_url: 'http://www.daum.net/articles/${ARTICLE_ID}', mobile_web_url: 'http://m.daum.net/articles/${ARTICLE_ID}' },
    },
    buttons: [{ title: '읽기', link: { web_url: 'http://www.daum.net/articles/${ARTICLE_ID}' } }],
  };

  it('reproduces seed 001: memo/send with template_id and args', async () => {
    const app = await talkApp(h, { web_domains: [...SEED_DOMAINS, 'developers.kakao.com'] });
    const me = await member(h, app);
    const created = await h.control('POST', `/apps/${app.id}/templates`, { id: 123456, name: '기사', template: { ...ARTICLE, content: { ...ARTICLE.content, title: '기사 제목', image_width: 640 } } });
    assert.equal(created.id, 123456);
    assert.equal(created.object_type, 'feed');
    const res = await h.inject({
      method: 'POST',
      url: '/v2/api/talk/memo/send',
      headers: { authorization: `Bearer ${me.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `template_id=123456&args=${encodeURIComponent('{"ARTICLE_ID":123}')}`,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { result_code: 0 });
    const [message] = (await messagesOf(h, me, 'memo')).messages;
    assert.equal(message.template_id, 123456);
    assert.equal(message.template_type, 'feed');
    assert.deepEqual(message.template.content, {
      title: '기사 제목',
      description: '기사 123번',
      image_url: 'http://k.kakao.com/123.png',
      image_width: 640,
      link: { web_url: 'http://www.daum.net/articles/123', mobile_web_url: 'http://m.daum.net/articles/123' },
    });
    assert.deepEqual(message.template.buttons, [{ title: '읽기', link: { web_url: 'http://www.daum.net/articles/123' } }]);
  });

  it('fills template_args, converting whole-placeholder numbers, and renders missing ones empty', async () => {
    const app = await talkApp(h, { web_domains: [...SEED_DOMAINS, 'developers.kakao.com'] });
    const me = await member(h, app);
    const t = await h.control('POST', `/apps/${app.id}/templates`, { template: ARTICLE });
    assert.ok(t.id >= 10_000 && t.id < 1_000_000);
    let res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: t.id, template_args: { TITLE: '제목', ARTICLE_ID: 7, WIDTH: '800' } });
    assert.deepEqual(res.json(), { result_code: 0 }, res.body);
    const [message] = (await messagesOf(h, me, 'memo')).messages;
    assert.equal(message.template.content.title, '제목');
    assert.equal(message.template.content.image_width, 800);
    // Arguments left out are rendered empty, as sharing validation renders them (answering
    // argument_msg {"${TITLE}": "there's no given value."}): the message is sent without them.
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: t.id, template_args: { ARTICLE_ID: 7 } });
    assert.deepEqual(res.json(), { result_code: 0 }, res.body);
    const [unfilled] = (await messagesOf(h, me, 'memo')).messages;
    assert.deepEqual(unfilled.template.content, {
      description: '기사 7번',
      image_url: 'http://k.kakao.com/7.png',
      link: { web_url: 'http://www.daum.net/articles/7', mobile_web_url: 'http://m.daum.net/articles/7' },
    });
    // Sharing validation of the same call renders the same message.
    const shared = await h.kapiKey('GET', '/v2/api/kakaolink/talk/template/validate', app.javascript_key, { link_ver: '4.0', template_id: t.id, template_args: { ARTICLE_ID: 7 } });
    assert.deepEqual(shared.json().argument_msg, { '${TITLE}': "there's no given value.", '${WIDTH}': "there's no given value." });
    assert.deepEqual(shared.json().template_msg.C.TI.TD, { D: unfilled.template.content.description });
    assert.deepEqual(shared.json().template_msg.C.THL[0].TH, { THU: unfilled.template.content.image_url });
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: t.id });
    assert.deepEqual(res.json(), { result_code: 0 }, res.body);
    const [bare] = (await messagesOf(h, me, 'memo')).messages;
    assert.deepEqual(bare.template.content, { description: '기사 번', image_url: 'http://k.kakao.com/.png', link: { web_url: 'http://www.daum.net/articles/', mobile_web_url: 'http://m.daum.net/articles/' } });
    // A link whose only target is a missing argument is sent with none, as a link off the web domains is.
    const linkOnly = await h.control('POST', `/apps/${app.id}/templates`, { template: { object_type: 'text', text: 'Hi ${NAME}', link: { web_url: '${URL}' } } });
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: linkOnly.id, template_args: { NAME: 'Ryan' } });
    assert.deepEqual(res.json(), { result_code: 0 }, res.body);
    const [noLink] = (await messagesOf(h, me, 'memo')).messages;
    assert.deepEqual(noLink.template.link, {});
    assert.equal(noLink.template.text, 'Hi Ryan');
    // Saved with no target at all, a link is still refused (seed 001: one of the four is required).
    const saved = await h.inject({ method: 'POST', url: `/_kapibara/v1/apps/${app.id}/templates`, payload: { template: { object_type: 'text', text: 'Hi', link: {} } } });
    assert.equal(saved.statusCode, 400, saved.body);
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: t.id, template_args: { TITLE: 'x', ARTICLE_ID: 7, WIDTH: 'wide' } });
    assertApiError(res, 400, -2, `invalid template(${t.id}).content.image_width`);
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: 999, template_args: {} });
    assertApiError(res, 400, -2, 'invalid template_id: template 999 does not exist in this app');
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, {});
    assertApiError(res, 400, -2, 'template_id is required');
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: t.id, template_args: '{bad' });
    assertApiError(res, 400, -2, 'invalid template_args: not a valid JSON.');
    // The older name: errors name the parameter the client sent.
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: t.id, args: '{bad' });
    assert.deepEqual(res.json(), { msg: 'invalid args: not a valid JSON.', code: -2 });
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: t.id, args: { TITLE: [1] } });
    assert.deepEqual(res.json(), { msg: 'invalid args.TITLE: must be a string, a number or a boolean.', code: -2 });
    res = await h.kapi('POST', '/v2/api/talk/memo/scrap/send', me.token, { request_url: 'http://www.daum.net/', template_id: t.id, args: 'xx' });
    assert.deepEqual(res.json(), { msg: 'invalid args: not a valid JSON.', code: -2 });
    // A number or boolean argument filling a whole text field is that text (seed 001 sends {"ARTICLE_ID":123}).
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: t.id, args: { TITLE: 2026, ARTICLE_ID: 7, WIDTH: 640 } });
    assert.deepEqual(res.json(), { result_code: 0 }, res.body);
    const [latest] = (await messagesOf(h, me, 'memo')).messages;
    assert.equal(latest.template.content.title, '2026');
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: t.id, args: { TITLE: true, ARTICLE_ID: 7, WIDTH: 640 } });
    assert.deepEqual(res.json(), { result_code: 0 }, res.body);
    // An object or array is no argument: -2 naming it, never "[object Object]" in a message.
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: t.id, template_args: { TITLE: { a: 1 }, ARTICLE_ID: 7, WIDTH: 640 } });
    assertApiError(res, 400, -2, 'invalid template_args.TITLE: must be a string, a number or a boolean.');
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: t.id, template_args: { TITLE: 'x', ARTICLE_ID: [1, 2], WIDTH: 640 } });
    assertApiError(res, 400, -2, 'invalid template_args.ARTICLE_ID: must be a string, a number or a boolean.');
    // Another app's template is unknown here.
    const other = await talkApp(h, { web_domains: [...SEED_DOMAINS, 'developers.kakao.com'] });
    const theirs = await h.control('POST', `/apps/${other.id}/templates`, { template: TEXT });
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: theirs.id });
    assertApiError(res, 400, -2, `template ${theirs.id} does not exist`);
    assert.equal((await messagesOf(h, me)).total_count, 6);
  });

  it('manages templates through the control plane: list, commerce and scrap types, CRUD, structural checks', async () => {
    const app = await talkApp(h, { web_domains: [...SEED_DOMAINS, 'developers.kakao.com'] });
    const listTemplate = { ...LIST, header_title: '${HEADER}', contents: [...LIST.contents, LIST.contents[0], LIST.contents[1]] };
    const list = await h.control('POST', `/apps/${app.id}/templates`, { name: 'list of five', template: listTemplate });
    const commerce = await h.control('POST', `/apps/${app.id}/templates`, { name: 'deal', template: { ...COMMERCE, commerce: { regular_price: '${PRICE}', fixed_discount_price: 1000 } } });
    assert.deepEqual(
      (await h.control('GET', `/apps/${app.id}/templates`)).map((t: any) => t.id).sort(),
      [list.id, commerce.id].sort(),
    );
    assert.equal((await h.control('GET', `/apps/${app.id}/templates/${list.id}`)).name, 'list of five');
    const updated = await h.control('PUT', `/apps/${app.id}/templates/${list.id}`, { name: 'renamed', template: listTemplate });
    assert.equal(updated.name, 'renamed');

    const me = await member(h, app);
    let res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: list.id, template_args: { HEADER: '주간' } });
    assert.deepEqual(res.json(), { result_code: 0 }, res.body);
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: commerce.id, template_args: { PRICE: 50000 } });
    assert.deepEqual(res.json(), { result_code: 0 }, res.body);
    const { messages } = await messagesOf(h, me, 'memo');
    assert.deepEqual(messages[0].template.commerce, { regular_price: 50000, fixed_discount_price: 1000 });
    assert.equal(messages[1].template.contents.length, 5);
    assert.equal(messages[1].template.header_title, '주간');

    const bad = async (body: unknown, status: number, msg: string) => {
      const r = await h.inject({ method: 'POST', url: `/_kapibara/v1/apps/${app.id}/templates`, payload: body as object });
      assert.equal(r.statusCode, status, r.body);
      assert.ok(r.json().error.includes(msg), r.body);
    };
    await bad({ template: { object_type: 'feed' } }, 400, 'template.content is required');
    await bad({ template: { object_type: 'calendar', id: 'x', id_type: 'event', content: CALENDAR.content } }, 400, 'template.object_type');
    await bad({ template: edit(FEED, (t) => (t.content.link.web_url = 'http://evil.example.com/')) }, 400, 'template.content.link.web_url');
    await bad({ id: list.id, template: TEXT }, 409, 'taken');
    await h.control('DELETE', `/apps/${app.id}/templates/${list.id}`);
    const gone = await h.inject({ method: 'GET', url: `/_kapibara/v1/apps/${app.id}/templates/${list.id}` });
    assert.equal(gone.statusCode, 404);
    res = await h.kapi('POST', '/v2/api/talk/memo/send', me.token, { template_id: list.id });
    assertApiError(res, 400, -2, 'does not exist');
    // Templates travel with the state.
    const state = await h.control('GET', '/state');
    assert.equal(state.talk_templates.length, 1);
    assert.equal(state.talk_templates[0].template.object_type, 'commerce');
    assert.ok(state.talk_messages.length >= 2);
    await h.control('PUT', '/state', state);
    assert.equal((await h.control('GET', `/apps/${app.id}/templates/${commerce.id}`)).name, 'deal');
  });
});
