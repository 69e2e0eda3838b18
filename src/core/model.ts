import type { ConsentSetting } from './scopes.js';

/**
 * The core aggregates as the platform's rules see them: apps, simulated Kakao accounts and
 * the links between them. Repositories in src/store/ read and write them; core code (auth,
 * the route declarations) and products use these types.
 */

export interface ServiceTerm {
  tag: string;
  title: string;
  required: boolean;
  /** Whether a person may withdraw agreement later through the API. */
  revocable: boolean;
}

export type KeyType = 'rest_api' | 'native' | 'javascript' | 'admin';
/** The keys a person's tokens are requested with: every key but the admin key. */
export type ClientKeyType = Exclude<KeyType, 'admin'>;

export interface App {
  id: number;
  name: string;
  keys: Record<KeyType, string>;
  clientSecret: string | null;
  redirectUris: string[];
  logoutRedirectUris: string[];
  webDomains: string[];
  consentItems: Record<string, ConsentSetting>;
  serviceTerms: ServiceTerm[];
  userPropertyKeys: string[];
  loginEnabled: boolean;
  oidcEnabled: boolean;
  manualSignup: boolean;
  createdAt: number;
}

/** A simulated Kakao account: a person who can sign in to apps. */
export interface Account {
  id: number;
  email: string;
  /** The password as stored: a scrypt hash (core/passwords.ts), never the plaintext. */
  passwordHash: string;
  nickname: string;
  profileImageUrl: string | null;
  thumbnailImageUrl: string | null;
  name: string | null;
  gender: 'female' | 'male' | null;
  birthyear: string | null;
  birthday: string | null;
  birthdayType: 'SOLAR' | 'LUNAR' | null;
  isLeapMonth: boolean;
  phoneNumber: string | null;
  isKorean: boolean | null;
  emailVerified: boolean;
  talkUser: boolean;
  storyUser: boolean;
  createdAt: number;
}

export interface TermAgreement {
  agreed_at: number;
  agreed_by: 'KAUTH' | 'KAPI';
}

/** The connection between an app and a Kakao account, with what the person agreed to. */
export interface Link {
  appId: number;
  accountId: number;
  userId: number;
  uuid: string;
  connectedAt: number;
  signedUpAt: number | null;
  properties: Record<string, string>;
  /** scope id → agreed at (ms) */
  scopes: Record<string, number>;
  terms: Record<string, TermAgreement>;
}

