/**
 * The JavaScript samples of seed 004 (Kakao Talk sharing: JavaScript), as the settings
 * objects the pages pass to Kakao.Link / Kakao.Share. The seed's sendDefault feed sample has
 * unbalanced braces (itemContent opens inside content and content never closes); it is the
 * createDefaultButton feed sample with the same fields, used for both.
 */

const DEV = 'https://developers.kakao.com';

export const FEED = {
  objectType: 'feed',
  content: {
    title: 'Dessert pictures',
    description: 'Americano, bread, cake',
    imageUrl: 'https://mud-kage.kakao.com/dn/NTmhS/btqfEUdFAUf/FjKzkZsnoeE4o19klTOVI1/openlink_640x640s.jpg',
    link: { mobileWebUrl: DEV, androidExecutionParams: 'test' },
  },
  itemContent: {
    profileText: 'Kakao',
    profileImageUrl: 'http://k.kakaocdn.net/dn/Q2iNx/btqgeRgV54P/VLdBs9cvyn8BJXB3o7N8UK/kakaolink40_original.png',
    titleImageUrl: 'http://k.kakaocdn.net/dn/Q2iNx/btqgeRgV54P/VLdBs9cvyn8BJXB3o7N8UK/kakaolink40_original.png',
    titleImageText: 'Cheese cake',
    titleImageCategory: 'cake',
    items: [
      { item: 'cake1', itemOp: '1000 won' },
      { item: 'cake2', itemOp: '2000 won' },
      { item: 'cake3', itemOp: '3000 won' },
    ],
    sum: 'Total',
    sumOp: '3000 won',
  },
  social: { likeCount: 10, commentCount: 20, sharedCount: 30 },
  buttons: [
    { title: 'View on Web', link: { mobileWebUrl: DEV } },
    { title: 'View on App', link: { mobileWebUrl: DEV } },
  ],
};

/** FEED as the platform receives it (`template_object`). */
export const FEED_TEMPLATE_OBJECT = {
  object_type: 'feed',
  content: {
    title: 'Dessert pictures',
    description: 'Americano, bread, cake',
    image_url: 'https://mud-kage.kakao.com/dn/NTmhS/btqfEUdFAUf/FjKzkZsnoeE4o19klTOVI1/openlink_640x640s.jpg',
    link: { mobile_web_url: DEV, android_execution_params: 'test' },
  },
  item_content: {
    profile_text: 'Kakao',
    profile_image_url: 'http://k.kakaocdn.net/dn/Q2iNx/btqgeRgV54P/VLdBs9cvyn8BJXB3o7N8UK/kakaolink40_original.png',
    title_image_url: 'http://k.kakaocdn.net/dn/Q2iNx/btqgeRgV54P/VLdBs9cvyn8BJXB3o7N8UK/kakaolink40_original.png',
    title_image_text: 'Cheese cake',
    title_image_category: 'cake',
    items: [
      { item: 'cake1', item_op: '1000 won' },
      { item: 'cake2', item_op: '2000 won' },
      { item: 'cake3', item_op: '3000 won' },
    ],
    sum: 'Total',
    sum_op: '3000 won',
  },
  social: { like_count: 10, comment_count: 20, shared_count: 30 },
  buttons: [
    { title: 'View on Web', link: { mobile_web_url: DEV } },
    { title: 'View on App', link: { mobile_web_url: DEV } },
  ],
};

const bothLinks = { mobileWebUrl: DEV, webUrl: DEV };

export const LIST = {
  objectType: 'list',
  headerTitle: 'WEEKLY MAGAZINE',
  headerLink: bothLinks,
  contents: [
    { title: 'My hobby, Table tennis', description: 'Sports', imageUrl: 'http://k.kakaocdn.net/dn/bDPMIb/btqgeoTRQvd/49BuF1gNo6UXkdbKecx600/kakaolink40_original.png', link: bothLinks },
    { title: 'Story about coffee with cream', description: 'Food', imageUrl: 'http://k.kakaocdn.net/dn/QPeNt/btqgeSfSsCR/0QJIRuWTtkg4cYc57n8H80/kakaolink40_original.png', link: bothLinks },
    { title: 'Inspiring pictures', description: 'Photo', imageUrl: 'http://k.kakaocdn.net/dn/c7MBX4/btqgeRgWhBy/ZMLnndJFAqyUAnqu4sQHS0/kakaolink40_original.png', link: bothLinks },
  ],
  buttons: [
    { title: 'View on Web', link: bothLinks },
    { title: 'View on App', link: bothLinks },
  ],
};

export const LOCATION = {
  objectType: 'location',
  address: '235, Pangyoyeok-ro, Bundang-gu, Seongnam-si, Gyeonggi-do',
  addressTitle: 'Kakao Pangyo Office Cafe Talk',
  content: {
    title: 'New menu release❤️ Cherry Blossom Latte',
    description: 'Cherry blossom latte 1+1 for this week',
    imageUrl: 'http://k.kakaocdn.net/dn/bSbH9w/btqgegaEDfW/vD9KKV0hEintg6bZT4v4WK/kakaolink40_original.png',
    link: bothLinks,
  },
  social: { likeCount: 286, commentCount: 45, sharedCount: 845 },
  buttons: [{ title: 'View on Web', link: bothLinks }],
};

export const COMMERCE = {
  objectType: 'commerce',
  content: {
    title:
      'Here is the story of Kakao Mini. You can make your daily life more enjoyable and more convenient with Kakao Mini. Call Hey Ryan anytime, anywhere.',
    imageUrl: 'http://k.kakaocdn.net/dn/dScJiJ/btqB3cwK1Hi/pv5qHVwetz5RZfPZR3C5K1/kakaolink40_original.png',
    link: bothLinks,
  },
  commerce: { productName: 'Kakao Mini', regularPrice: 100000, discountRate: 10, discountPrice: 90000 },
  buttons: [
    { title: 'Purchase', link: bothLinks },
    { title: 'Share', link: bothLinks },
  ],
};

export const TEXT = {
  objectType: 'text',
  text: 'The Text template provided as a default template can contain text up to 200 characters. The Text template has a text area and a default button. You can also add an additional button. If you use the Kakao Talk sharing, you can send a message with a more extended form of templates, such as sending multiple images and profile information.',
  link: bothLinks,
};

/** The success-callback sample: a text template with serverCallbackArgs. */
export const TEXT_WITH_CALLBACK_ARGS = {
  objectType: 'text',
  text: 'Start developing the Kakao platform services with the JavaScript SDK sample.',
  link: bothLinks,
  serverCallbackArgs: { key: 'value' },
};

export const DEFAULT_SAMPLES = { feed: FEED, list: LIST, location: LOCATION, commerce: COMMERCE, text: TEXT };

export const CUSTOM_ARGS = { title: 'This is the title area.', description: 'This is the description area.' };

/** SDK v1 has no item_content and names execution params androidExecParams / iosExecParams. */
export function v1Names(sample: Record<string, unknown>): Record<string, unknown> {
  const rename = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rename);
    if (typeof v !== 'object' || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      if (k === 'itemContent') continue;
      out[k === 'androidExecutionParams' ? 'androidExecParams' : k === 'iosExecutionParams' ? 'iosExecParams' : k] = rename(val);
    }
    return out;
  };
  return rename(sample) as Record<string, unknown>;
}
