/**
 * What `npm run bench` measures. Each scenario prepares state through the control plane
 * (after a reset) and names the request(s) to load; `compare` adds more Kapibara-only
 * measurements reported beside the main one.
 */
export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Prepared {
  request: RequestSpec;
  /** More Kapibara-only measurements: latency one request at a time (mean and p99, ms). */
  compare?: Record<string, RequestSpec>;
}

export type StoreKind = 'sqlite' | 'postgres';

export interface Scenario {
  name: string;
  /** Throughput ratio to the bare server this scenario must reach, per store. */
  targets: Record<StoreKind, number>;
  setup(origin: string): Promise<Prepared>;
  /** More figures from `compare`, each with its target: [text, met]. */
  describe?(extra: Record<string, number>, store: StoreKind): { text: string; met?: boolean }[];
}

export async function control<T = any>(origin: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${origin}/_kapibara/v1${path}`, {
    method,
    // A body-less state change needs X-Kapibara-Control (docs/security.md).
    headers: body === undefined ? { 'x-kapibara-control': '1' } : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`control ${method} ${path} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function appAndPerson(origin: string, consent: Record<string, string>) {
  await control(origin, 'POST', '/reset');
  const app = await control(origin, 'POST', '/apps', {
    name: 'bench',
    redirect_uris: ['http://localhost:3000/cb'],
    web_domains: ['http://localhost:3000'],
    consent_items: consent,
  });
  const person = await control(origin, 'POST', '/accounts', {
    nickname: 'Ryan',
    email: 'ryan@bench.test',
    profile_image_url: 'https://kapibara.test/ryan_640.png',
    thumbnail_image_url: 'https://kapibara.test/ryan_110.png',
    gender: 'male',
    birthyear: '1990',
    birthday: '0105',
    birthday_type: 'SOLAR',
  });
  return { app, person };
}

const userMe: Scenario = {
  name: 'GET /v2/user/me',
  targets: { sqlite: 0.75, postgres: 0.5 },
  async setup(origin) {
    const { app, person } = await appAndPerson(origin, {
      profile_nickname: 'required',
      profile_image: 'optional',
      account_email: 'optional',
      gender: 'optional',
      birthday: 'optional',
      age_range: 'optional',
    });
    const t = await control(origin, 'POST', `/apps/${app.id}/users/${person.id}/tokens`, {});
    return { request: { method: 'GET', path: '/v2/user/me', headers: { authorization: `Bearer ${t.access_token}` } } };
  },
};

export const scenarios: Scenario[] = [userMe];

/**
 * One app; `big` has `bigCount` friends and `small` has 10, all linked to the app with the
 * `friends` consent, loaded in one state import. Friends are seeded with mixed-script
 * nicknames so ordering does real collation work.
 */
async function friendsWorld(origin: string, bigCount: number) {
  await control(origin, 'POST', '/reset');
  const appId = 77;
  const names = ['Ryan', '라이언', 'アピーチ', '9lives', '_under', 'Zed', '무지', 'emoji😀', 'Neo', '프로도'];
  const accounts: Record<string, unknown>[] = [
    { id: 1, email: 'big@bench.test', nickname: 'Big' },
    { id: 2, email: 'small@bench.test', nickname: 'Small' },
    { id: 3, email: 'hundred@bench.test', nickname: 'Hundred' },
  ];
  const friendships: Record<string, unknown>[] = [];
  const links: Record<string, unknown>[] = [
    { app_id: appId, account_id: 1, scopes: ['profile_nickname', 'friends', 'talk_message'] },
    { app_id: appId, account_id: 2, scopes: ['profile_nickname', 'friends', 'talk_message'] },
    { app_id: appId, account_id: 3, scopes: ['profile_nickname', 'friends', 'talk_message'] },
  ];
  for (let i = 0; i < bigCount; i++) {
    const id = 1000 + i;
    accounts.push({ id, email: `f${i}@bench.test`, nickname: `${names[i % names.length]} ${i}`, thumbnail_image_url: `https://kapibara.test/${i}_110.png` });
    links.push({ app_id: appId, account_id: id, scopes: ['profile_nickname', 'friends'] });
    friendships.push({ account_id: 1, friend_account_id: id, favorite: i % 50 === 0, created_at: 0 });
    friendships.push({ account_id: id, friend_account_id: 1, favorite: false, created_at: 0 });
    if (i < 10) {
      friendships.push({ account_id: 2, friend_account_id: id, favorite: i === 0, created_at: 0 });
      friendships.push({ account_id: id, friend_account_id: 2, favorite: false, created_at: 0 });
    }
    if (i < 100) {
      friendships.push({ account_id: 3, friend_account_id: id, favorite: i % 50 === 0, created_at: 0 });
      friendships.push({ account_id: id, friend_account_id: 3, favorite: false, created_at: 0 });
    }
  }
  await control(origin, 'POST', '/state', {
    apps: [{ id: appId, name: 'bench', redirect_uris: ['http://localhost:3000/cb'], web_domains: ['http://localhost:3000'], consent_items: { profile_nickname: 'required', friends: 'optional', talk_message: 'optional' } }],
    accounts,
    friendships,
    app_users: links,
  });
  const token = async (accountId: number) =>
    (await control(origin, 'POST', `/apps/${appId}/users/${accountId}/tokens`, {})).access_token as string;
  return { big: await token(1), small: await token(2), hundred: await token(3) };
}

const FRIENDS_AT = 10_000;

/** A friends page of 10,000 friends may cost at most this much more than one of 10. */
export const FRIENDS_SCALING_TARGET = 1.3;

const friendsPage: Scenario = {
  name: 'GET /v1/api/talk/friends',
  targets: { sqlite: 0.7, postgres: 0.4 },
  async setup(origin) {
    const { big, small, hundred } = await friendsWorld(origin, FRIENDS_AT);
    const page = (token: string, offset: number, limit = 100): RequestSpec => ({
      method: 'GET',
      path: `/v1/api/talk/friends?limit=${limit}&offset=${offset}`,
      headers: { authorization: `Bearer ${token}` },
    });
    return {
      request: page(big, 0),
      compare: {
        big_first: page(big, 0),
        big_last: page(big, FRIENDS_AT - 100),
        // Pages of the same size from 10,000 and from 10 friends: what the list's length costs.
        big_ten_first: page(big, 0, 10),
        big_ten_last: page(big, FRIENDS_AT - 10, 10),
        ten: page(small, 0),
        hundred: page(hundred, 0),
      },
    };
  },
  describe(x) {
    const ms = (k: string) => `${x[`${k}_mean`].toFixed(3)} ms (p99 ${x[`${k}_p99`].toFixed(3)}, bare ${x[`bare_${k}_mean`].toFixed(3)})`;
    // What Kapibara adds over a bare server sending the same bytes.
    const own = (k: string) => x[`${k}_mean`] - x[`bare_${k}_mean`];
    // The same number of friends on each page, first and last page of the long list: only
    // the list's length differs (pages of 100 from 10,000 against 10 friends would mostly
    // measure ten times the bytes, as the bare server sending them shows).
    const tens = Math.max(x.big_ten_first_mean, x.big_ten_last_mean) / x.ten_mean;
    const hundreds = Math.max(x.big_first_mean, x.big_last_mean) / x.hundred_mean;
    const scaling = Math.max(tens, hundreds);
    return [
      {
        text: `latency, one request at a time, cases in turns: ${FRIENDS_AT} friends, pages of 100: first ${ms('big_first')}, last ${ms('big_last')}; pages of 10: first ${ms('big_ten_first')}, last ${ms('big_ten_last')}; 10 friends ${ms('ten')}; 100 friends ${ms('hundred')}`,
      },
      {
        text: `${FRIENDS_AT} vs 10 friends: ${scaling.toFixed(2)}× (target ≤ ${FRIENDS_SCALING_TARGET}×; the slower of the first and last page, pages of 10 from ${FRIENDS_AT} vs 10 friends ${tens.toFixed(2)}×, pages of 100 from ${FRIENDS_AT} vs 100 friends ${hundreds.toFixed(2)}×); a page of 100 vs one of 10 friends: ${(x.big_first_mean / x.ten_mean).toFixed(2)}× (bare, same bytes: ${(x.bare_big_first_mean / x.bare_ten_mean).toFixed(2)}×)`,
        met: scaling <= FRIENDS_SCALING_TARGET,
      },
      {
        text: `Kapibara's own time over bare: ${(own('big_first') * 1000).toFixed(0)} µs at ${FRIENDS_AT} friends (last page ${(own('big_last') * 1000).toFixed(0)} µs; pages of 10 ${(own('big_ten_first') * 1000).toFixed(0)} and ${(own('big_ten_last') * 1000).toFixed(0)} µs), ${(own('hundred') * 1000).toFixed(0)} µs at 100, ${(own('ten') * 1000).toFixed(0)} µs at 10`,
      },
    ];
  },
};

const FEED = JSON.stringify({
  object_type: 'feed',
  content: {
    title: 'Kapibara bench',
    description: 'A feed message',
    image_url: 'http://localhost:3000/img.png',
    link: { web_url: 'http://localhost:3000', mobile_web_url: 'http://localhost:3000' },
  },
  social: { like_count: 10, comment_count: 2 },
  buttons: [{ title: 'Open', link: { web_url: 'http://localhost:3000' } }],
});

const memoSend: Scenario = {
  name: 'POST /v2/api/talk/memo/default/send',
  targets: { sqlite: 0.45, postgres: 0.25 },
  async setup(origin) {
    const { app, person } = await appAndPerson(origin, { profile_nickname: 'required', talk_message: 'optional' });
    const t = await control(origin, 'POST', `/apps/${app.id}/users/${person.id}/tokens`, {});
    return {
      request: {
        method: 'POST',
        path: '/v2/api/talk/memo/default/send',
        headers: { authorization: `Bearer ${t.access_token}`, 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        body: new URLSearchParams({ template_object: FEED }).toString(),
      },
    };
  },
};

scenarios.push(friendsPage, memoSend);

export { userMe, memoSend };
