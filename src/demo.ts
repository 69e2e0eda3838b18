import type { Kysely } from 'kysely';
import type { DB } from './db/schema.js';
import { createApp } from './store/apps.js';
import { createAccount, type AccountInput } from './store/accounts.js';
import { addFriendship } from './store/friendships.js';
import { avatarUrl } from './console/avatars.js';

/** Fixed so that docs and examples can name them. */
export const DEMO_APP_ID = 1000001;
export const DEMO_KEYS = {
  rest_api: 'kapibarademorestapikey000000000a',
  native: 'kapibarademonativekey00000000000b',
  javascript: 'kapibarademojavascriptkey000000c',
  admin: 'kapibarademoadminkey000000000000d',
} as const;

const PEOPLE: AccountInput[] = [
  { id: 1001, email: 'ryan@kapibara.test', nickname: 'Ryan', name: 'Ryan Lion', gender: 'male', birthyear: '1990', birthday: '0105', birthdayType: 'SOLAR', phoneNumber: '+82 10-1234-0001', isKorean: true },
  { id: 1002, email: 'apeach@kapibara.test', nickname: 'Apeach', name: 'Apeach Peach', gender: 'female', birthyear: '1995', birthday: '0214', birthdayType: 'SOLAR', phoneNumber: '+82 10-1234-0002', isKorean: true },
  { id: 1003, email: 'muzi@kapibara.test', nickname: '무지', name: '무지', gender: 'male', birthyear: '1988', birthday: '0812', birthdayType: 'LUNAR', phoneNumber: '+82 10-1234-0003', isKorean: true },
  { id: 1004, email: 'frodo@kapibara.test', nickname: '프로도', name: '프로도', gender: 'male', birthyear: '2001', birthday: '1111', birthdayType: 'SOLAR', isKorean: true },
  { id: 1005, email: 'neo@kapibara.test', nickname: 'ネオ', name: 'Neo', gender: 'female', birthyear: '1979', birthday: '0303', birthdayType: 'SOLAR', isKorean: false },
  // Uses neither Kakao Talk nor Kakao Story: for the -501 / -601 paths.
  { id: 1006, email: 'jay-g@kapibara.test', nickname: 'Jay-G', gender: 'male', birthyear: '1985', birthday: '0707', birthdayType: 'SOLAR', talkUser: false, storyUser: false },
];

/**
 * Creates the demo app and people on first start (when the store has no apps). Their
 * profile pictures are served by this Kapibara, on whatever origin a client reaches it.
 */
export async function seedDemo(db: Kysely<DB>, now: number): Promise<boolean> {
  const any = await db.selectFrom('apps').select('id').limit(1).executeTakeFirst();
  if (any) return false;
  await db.transaction().execute(async (tx) => {
    await createApp(
      tx,
      {
        id: DEMO_APP_ID,
        name: 'Kapibara Demo',
        keys: DEMO_KEYS,
        redirectUris: ['http://localhost:3000/oauth/callback', 'http://localhost:3000/auth/kakao/callback'],
        logoutRedirectUris: ['http://localhost:3000/'],
        webDomains: ['http://localhost:3000'],
        consentItems: {
          profile_nickname: 'required',
          profile_image: 'optional',
          account_email: 'optional',
          gender: 'optional',
          birthday: 'optional',
          age_range: 'optional',
          friends: 'optional',
          talk_message: 'optional',
          story_read: 'optional',
          story_publish: 'optional',
          openid: 'optional',
        },
        oidcEnabled: true,
        serviceTerms: [
          { tag: 'terms_of_service', title: 'Terms of service', required: true, revocable: false },
          { tag: 'marketing', title: 'Marketing messages', required: false, revocable: true },
        ],
      },
      now,
    );
    for (const person of PEOPLE) {
      const name = person.email!.split('@')[0];
      await createAccount(
        tx,
        {
          ...person,
          password: 'kapibara',
          profileImageUrl: avatarUrl(name, 640, person.nickname!),
          thumbnailImageUrl: avatarUrl(name, 110, person.nickname!),
        },
        now,
      );
    }
    const friends: [number, number, boolean][] = [
      [1001, 1002, true],
      [1001, 1003, false],
      [1001, 1004, false],
      [1001, 1005, false],
      [1002, 1003, true],
      [1003, 1004, false],
    ];
    for (const [a, b, fav] of friends) await addFriendship(tx, a, b, now, { ab: fav, ba: false });
  });
  return true;
}
