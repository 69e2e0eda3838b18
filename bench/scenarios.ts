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
  compare?: Record<string, RequestSpec>;
}

export interface Scenario {
  name: string;
  /** Throughput ratio to the bare server this scenario must reach. */
  target?: number;
  setup(origin: string): Promise<Prepared>;
  describe?(extra: Record<string, number>, main: { rps: number; p99: number }): string;
}

export async function control<T = any>(origin: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${origin}/_kapibara/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
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
  target: 0.75,
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
