import type { Static } from '@sinclair/typebox';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { Clock } from './core/clock.js';
import type { InspectorOptions, RequestFilter, RequestRecord } from './core/inspector.js';
import type { StoreOptions } from './db/index.js';
import { openStore, stateTables } from './kapibara.js';
import { DEMO_APP_ID, DEMO_KEYS, seedDemo } from './demo.js';
import { importState, type StateDocument } from './store/state.js';
import { CONTROL_PREFIX, type accountJson, type appJson } from './control/routes.js';
import type { AccountBody, AppBody } from './control/bodies.js';
import type { GroupChatBody, QuotaBody } from './products/message/control.js';
import type { CallsQuery, WebhookBody, webhookCallJson } from './products/sharing/control.js';
import type { ProfileBody as TalkProfileBody, SettingsBody as TalkSettingsBody, multiProfileJson } from './products/talk/control.js';
import type { ShippingAddressBody } from './products/user/control.js';
import type { ShippingAddressesTable } from './products/user/tables.js';
import type { CommentBody, LikeBody, ProfileBody, StoryBody } from './products/story/control.js';
import type { StoryMediaJson } from './products/story/operations.js';
import type { ChannelBody, ChannelPatch, RelationBody } from './products/channel/control.js';
import type { FileJson } from './products/channel/operations.js';
import type { ChannelsTable } from './products/channel/tables.js';
import type { InboxQuery, SettingsBody } from './products/push/control.js';
import { listenTls } from './core/tls.js';

export { mappedAgent, mapFetch, type FetchMapping } from './host-mapping.js';

/**
 * Kapibara inside a test suite (`import { startKapibara } from 'kapibara/testing'`): an
 * in-process server on a free loopback port, on an in-memory store unless told otherwise,
 * and a typed client for the control plane. `connectKapibara(url)` gives the same client
 * for a Kapibara already running (`kapibara exec`, a compose service). docs/testing.md.
 */

export type App = ReturnType<typeof appJson>;
export type AppInput = Static<typeof AppBody>;
export type Person = ReturnType<typeof accountJson>;
export type PersonInput = Static<typeof AccountBody>;
export type { RequestFilter, RequestRecord, StateDocument };

export interface Link {
  app_id: number;
  account_id: number;
  user_id: number;
  uuid: string;
  connected_at: string;
  signed_up: boolean;
  properties: Record<string, string>;
  scopes: string[];
  terms: string[];
}

export interface LinkInput {
  scopes?: string[];
  terms?: string[];
  properties?: Record<string, string>;
  signed_up?: boolean;
  /** Replace the agreed scopes and terms instead of adding to them. */
  replace?: boolean;
}

export interface Tokens {
  token_type: 'bearer';
  access_token: string;
  /** Present when the app has OpenID Connect on and `openid` is among the scopes. */
  id_token?: string;
  expires_in: number;
  refresh_token: string;
  refresh_token_expires_in: number;
  scope: string;
  user_id: number;
}

export interface TokenInput {
  /** Consent items to agree to (default: every item the app configures). */
  scopes?: string[];
  terms?: string[];
  /** The `nonce` claim of the id_token. */
  nonce?: string;
}

export interface Template {
  id: number;
  app_id: number;
  name: string;
  object_type: string;
  template: Record<string, unknown>;
  [field: string]: unknown;
}

/** Where a page of a list starts (`after`: the id of the last item of the page before) and how much of it (at most 1000; default 1000). */
export interface ListPage {
  after?: number;
  limit?: number;
}

/** A page of chats or messages, newest first: `before` is the `next` of the page before. */
export interface MessagePage {
  before?: number;
  offset?: number;
  limit?: number;
}

/** A message as a person's Kakao Talk shows it (control plane, docs/messages.md). */
export interface Message {
  id: number;
  chat_id: string;
  chat_type: 'memo' | 'direct' | 'group';
  app_id: number;
  sender_account_id: number;
  template_type: string;
  template_id?: number;
  template: Record<string, unknown>;
  sent_at: string;
}

/** Counts stop at 1000: `total_count_capped` says there are more. `next`: the following page's `before`. */
export interface MessageList {
  total_count: number;
  total_count_capped?: true;
  messages: Message[];
  next?: number;
}

export interface ChatList {
  total_count: number;
  chats: {
    id: string;
    type: 'memo' | 'direct' | 'group';
    peer_account_id: number;
    message_count: number;
    message_count_capped?: true;
    last_message_at: string;
    first_message_at: string;
  }[];
  next?: number;
}

/** A group chat among simulated people (docs/sharing.md#group-chats-control-plane). */
export interface GroupChat {
  id: number;
  title: string;
  member_account_ids: number[];
  created_at: string;
}

export type GroupChatInput = Static<typeof GroupChatBody>;

/** Every group chat, or a person's (`account_id`); with `after` (the last chat of the page before) or `limit`, that page only. */
export interface GroupChatListOptions extends ListPage {
  account_id?: number;
}

/** A person's Kakao Story profile: their handle, permalink and the Story-only values (null: the account's own). */
export interface StoryProfile {
  account_id: number;
  handle: string;
  permalink: string;
  nickname: string | null;
  profile_image_url: string | null;
  thumbnail_url: string | null;
  bg_image_url: string | null;
}

export type StoryProfileInput = Static<typeof ProfileBody>;
export type StoryInput = Static<typeof StoryBody>;
export type StoryCommentInput = Static<typeof CommentBody>;
export type Emotion = Static<typeof LikeBody>['emotion'];

/** A story as the control plane shows it: the wire form (docs/story.md) and what only the platform knows. */
export interface Story {
  id: string;
  url: string;
  media_type: 'NOTE' | 'PHOTO' | 'NOT_SUPPORTED';
  created_at: string;
  comment_count: number;
  like_count: number;
  content: string;
  /** Photo stories only. */
  media?: StoryMediaJson[];
  permission: 'PUBLIC' | 'FRIEND' | 'ONLY_ME';
  account_id: number;
  /** The app that posted it; null for a story written in the Kakao Story app itself. */
  app_id: number | null;
  enable_share: boolean;
  android_exec_param: string | null;
  ios_exec_param: string | null;
  android_market_param: string | null;
  ios_market_param: string | null;
  link_info: Record<string, unknown> | null;
  comments: Omit<StoryComment, 'story_id'>[];
  likes: (Omit<StoryMood, 'story_id'> & { created_at: string })[];
}

/** A page of a person's stories, newest first: `after` is the last story id of the page before. */
export interface StoryPage {
  after?: string;
  limit?: number;
}

export interface StoryComment {
  id: number;
  story_id: string;
  account_id: number;
  text: string;
  created_at: string;
}

export interface StoryMood {
  story_id: string;
  account_id: number;
  emotion: Emotion;
}

/** A Kakao Talk Channel (docs/channel.md#control-plane). */
export interface Channel extends Pick<ChannelsTable, 'id' | 'public_id' | 'search_id' | 'name' | 'profile_image_url' | 'owner_app_id'> {
  /** The apps it is linked to, its owner included. */
  app_ids: number[];
  banned: boolean;
  created_at: string;
  friend_url: string;
  chat_url: string;
}

export type ChannelInput = Static<typeof ChannelBody>;
export type ChannelChanges = Static<typeof ChannelPatch>;
export type ChannelRelationKind = Static<typeof RelationBody>['relation'];

/** A person's relation to a channel; `NONE` has no times. */
export interface ChannelRelation {
  account_id: number;
  relation: ChannelRelationKind;
  created_at?: string;
  updated_at?: string;
}

/** A customer file of a channel as kapi lists it, with its first customers (most recently updated first). */
export interface ChannelFile extends FileJson {
  users: { user_type: 'app' | 'phone'; id: string; field: Record<string, string | number>; updated_at: string }[];
}

/** What a person wrote on a channel's chat page. */
export interface ChannelChat {
  id: number;
  account_id: number;
  text: string;
  created_at: string;
}

export type PushSettings = Static<typeof SettingsBody>;

/** A registered device (docs/push.md); expired ones are listed too. */
export interface PushToken {
  uuid: string;
  device_id: string;
  push_type: 'apns' | 'fcm';
  push_token: string;
  created_at: string;
  updated_at: string;
  /** null: the token lives until deregistered. */
  expires_at: string | null;
  expired: boolean;
}

/** A page of an app's devices: `after_uuid` and `after_device_id` name the last device of the page before. */
export interface PushTokenPage {
  after_uuid?: string;
  after_device_id?: string;
  limit?: number;
}

/** Which deliveries of the inbox (newest first; `limit` default 100). */
export type PushInboxFilter = Static<typeof InboxQuery>;

/** What one device received: the part delivered (`message`) and what the phone shows. */
export interface PushDelivery {
  id: number;
  uuid: string;
  device_id: string;
  push_type: 'apns' | 'fcm';
  push_token: string;
  sent_at: string;
  truncated: boolean;
  message: Record<string, unknown>;
  notification: { title?: string; body?: string; badge?: number; sound?: string; silent: boolean; custom: Record<string, unknown> };
}

/** An app's message quotas in force: its own, or the platform default where it set none; null: no limit. */
export interface MessageQuotas {
  sender_daily: number | null;
  sender_monthly: number | null;
  receiver_daily: number | null;
  pair_daily: number | null;
}

/** The fields given change; null goes back to the platform default. */
export type MessageQuotasInput = Static<typeof QuotaBody>;

/** An app's sharing success webhook (docs/sharing.md). */
export interface SharingWebhook {
  url: string;
  method: 'GET' | 'POST';
  updated_at: string;
}

export type SharingWebhookInput = Static<typeof WebhookBody>;
export type SharingWebhookCall = ReturnType<typeof webhookCallJson>;
/** The latest calls (`limit`, default 50). */
export type SharingWebhookCallsFilter = Static<typeof CallsQuery>;

/** A Kakao Talk multi-profile: what the friends in `shown_to` see instead of the person's profile. */
export type TalkProfile = ReturnType<typeof multiProfileJson>;
export type TalkProfileInput = Static<typeof TalkProfileBody>;

/** A person's Kakao Talk settings, with their multi-profiles. */
export interface TalkSettings {
  account_id: number;
  messages_blocked: boolean;
  country_iso: string | null;
  multi_profiles: TalkProfile[];
}

/** The fields given change (PUT and PATCH alike); `country_iso: null` clears it. */
export type TalkSettingsInput = Static<typeof TalkSettingsBody>;

/** A shipping address as the control plane answers it (times ISO, `is_default` a boolean). */
export interface ShippingAddress extends Omit<ShippingAddressesTable, 'is_default' | 'updated_at'> {
  is_default: boolean;
  updated_at: string;
}

export type ShippingAddressInput = Static<typeof ShippingAddressBody>;

/** What `POST /expired/sweep` removed, rows by table, and the expiry it removed before. */
export interface Sweep {
  removed: Record<string, number>;
  expired_before: string;
}

function query(params: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}

export interface ClockState {
  now: string;
  offset_ms: number;
}

export interface Health {
  status: 'ok' | 'unavailable';
  version: string;
  uptime_s: number;
  store: { dialect: 'sqlite' | 'postgres'; reachable: boolean };
  migrations: { current: boolean; applied: number; known: number };
}

export interface RequestList {
  capacity: number;
  recorded: number;
  held: number;
  requests: RequestRecord[];
}

/** A control-plane call that failed: its HTTP status and the `{error}` message. */
export class KapibaraError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path}: ${status} ${error}`);
    this.name = 'KapibaraError';
  }
}

/** The demo app's keys (created on a fresh store unless `demo: false`). */
export interface DemoApp {
  appId: number;
  restApiKey: string;
  javascriptKey: string;
  nativeKey: string;
  adminKey: string;
}

export const DEMO_APP: DemoApp = {
  appId: DEMO_APP_ID,
  restApiKey: DEMO_KEYS.rest_api,
  javascriptKey: DEMO_KEYS.javascript,
  nativeKey: DEMO_KEYS.native,
  adminKey: DEMO_KEYS.admin,
};

/** A typed client for the control plane (`/_kapibara/v1`, docs/control-plane.md). */
export class ControlClient {
  constructor(
    readonly url: string,
    private readonly operatorToken?: string,
  ) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.send<T>(method, path, body)).json;
  }

  /** A call's answer, and the path of the next page when its `Link` header names one (docs/control-plane.md#paging). */
  private async send<T>(method: string, path: string, body?: unknown): Promise<{ json: T; next?: string }> {
    // The header marks a call no browser page could send cross-origin (docs/security.md).
    const headers: Record<string, string> = { 'x-kapibara-control': '1' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.operatorToken) headers.authorization = `Bearer ${this.operatorToken}`;
    const res = await fetch(`${this.url}${CONTROL_PREFIX}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) throw new KapibaraError(res.status, (json as { error?: string } | undefined)?.error ?? text, method, path);
    const next = /<([^>]*)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
    if (next !== undefined && !next.startsWith(`${CONTROL_PREFIX}/`)) throw new Error(`${method} ${path}: a next page outside the control plane: ${next}`);
    return { json: json as T, next: next?.slice(CONTROL_PREFIX.length) };
  }

  /**
   * A list the control plane pages (`after`, `limit`, and the `Link` of the next page): with
   * a page (any of its fields given), that page; without one, every item, page after page
   * as each page's `Link` names the next (lists were whole before they were paged, and
   * callers may rely on it). `filter` narrows the list either way.
   */
  private async listed<T>(path: string, page: object | undefined, filter: object = {}): Promise<T[]> {
    if (page && Object.values(page).some((v) => v !== undefined)) return this.call<T[]>('GET', `${path}${query({ ...filter, ...page })}`);
    const all: T[] = [];
    for (let next: string | undefined = `${path}${query(filter)}`; next !== undefined; ) {
      const answer: { json: T[]; next?: string } = await this.send<T[]>('GET', next);
      all.push(...answer.json);
      next = answer.next;
    }
    return all;
  }

  readonly apps = {
    create: (input: AppInput = {}) => this.call<App>('POST', '/apps', input),
    /** Every app by id; with a page (`{ after: <last id>, limit }`), that page only. */
    list: (page?: ListPage) => this.listed<App>('/apps', page),
    get: (appId: number) => this.call<App>('GET', `/apps/${appId}`),
    update: (appId: number, input: AppInput) => this.call<App>('PATCH', `/apps/${appId}`, input),
    delete: (appId: number) => this.call<void>('DELETE', `/apps/${appId}`),
  };

  readonly people = {
    create: (input: PersonInput = {}) => this.call<Person>('POST', '/accounts', input),
    /** Every person by id; with a page (`{ after: <last id>, limit }`), that page only. */
    list: (page?: ListPage) => this.listed<Person>('/accounts', page),
    get: (accountId: number) => this.call<Person>('GET', `/accounts/${accountId}`),
    /** The person with that email; undefined when nobody has it. */
    byEmail: async (email: string): Promise<Person | undefined> => (await this.call<Person[]>('GET', `/accounts?email=${encodeURIComponent(email)}`))[0],
    update: (accountId: number, input: PersonInput) => this.call<Person>('PATCH', `/accounts/${accountId}`, input),
    delete: (accountId: number) => this.call<void>('DELETE', `/accounts/${accountId}`),
    friends: (accountId: number) => this.call<{ account_id: number; nickname: string; favorite: boolean }[]>('GET', `/accounts/${accountId}/friends`),
  };

  readonly friendships = {
    /** Makes two people friends (both ways); `favorite`: a marks b, `friendFavorite`: b marks a. */
    add: (accountId: number, friendAccountId: number, options: { favorite?: boolean; friendFavorite?: boolean } = {}) =>
      this.call<{ account_id: number; friend_account_id: number }>('POST', '/friendships', {
        account_id: accountId,
        friend_account_id: friendAccountId,
        favorite: options.favorite,
        friend_favorite: options.friendFavorite,
      }),
    remove: (accountId: number, friendAccountId: number) =>
      this.call<void>('DELETE', '/friendships', { account_id: accountId, friend_account_id: friendAccountId }),
  };

  /** A person's link to an app: what they agreed to, their properties and signup state. */
  readonly consents = {
    get: (appId: number, accountId: number) => this.call<Link>('GET', `/apps/${appId}/users/${accountId}`),
    set: (appId: number, accountId: number, input: LinkInput) => this.call<Link>('PUT', `/apps/${appId}/users/${accountId}`, input),
    /** Unlinks the person from the app. */
    delete: (appId: number, accountId: number) => this.call<void>('DELETE', `/apps/${appId}/users/${accountId}`),
  };

  /** Tokens without a browser: the person agrees (to every configured item by default) and gets tokens. */
  tokens(appId: number, accountId: number, input: TokenInput = {}): Promise<Tokens> {
    return this.call<Tokens>('POST', `/apps/${appId}/users/${accountId}/tokens`, input);
  }

  readonly templates = {
    create: (appId: number, input: { id?: number; name?: string; template: Record<string, unknown> }) =>
      this.call<Template>('POST', `/apps/${appId}/templates`, input),
    /** Every template of the app by id; with a page (`{ after: <last id>, limit }`), that page only. */
    list: (appId: number, page?: ListPage) => this.listed<Template>(`/apps/${appId}/templates`, page),
    get: (appId: number, templateId: number) => this.call<Template>('GET', `/apps/${appId}/templates/${templateId}`),
    update: (appId: number, templateId: number, input: { name?: string; template: Record<string, unknown> }) =>
      this.call<Template>('PUT', `/apps/${appId}/templates/${templateId}`, input),
    delete: (appId: number, templateId: number) => this.call<void>('DELETE', `/apps/${appId}/templates/${templateId}`),
  };

  /** What a person's Kakao Talk shows: chats (latest activity first) and messages (newest first). */
  readonly talk = {
    chats: (accountId: number, page: MessagePage = {}) => this.call<ChatList>('GET', `/accounts/${accountId}/chats${query(page)}`),
    /** Of one chat (`memo`, a friend's account id, `g<group chat id>`) or, without `chat`, of all. */
    messages: (accountId: number, page: MessagePage & { chat?: string } = {}) => {
      const { chat, ...rest } = page;
      const path = chat === undefined ? `/accounts/${accountId}/messages` : `/accounts/${accountId}/chats/${encodeURIComponent(chat)}/messages`;
      return this.call<MessageList>('GET', `${path}${query(rest)}`);
    },
    /** Whether the person blocks messages from apps, and their country (`country_iso`). */
    settings: {
      get: (accountId: number) => this.call<TalkSettings>('GET', `/accounts/${accountId}/talk`),
      set: (accountId: number, input: TalkSettingsInput) => this.call<TalkSettings>('PUT', `/accounts/${accountId}/talk`, input),
      update: (accountId: number, input: TalkSettingsInput) => this.call<TalkSettings>('PATCH', `/accounts/${accountId}/talk`, input),
    },
    /** Multi-profiles: each shown to the friends named in `shown_to` instead of the person's profile. */
    profiles: {
      list: (accountId: number) => this.call<TalkProfile[]>('GET', `/accounts/${accountId}/talk/profiles`),
      create: (accountId: number, input: TalkProfileInput) => this.call<TalkProfile>('POST', `/accounts/${accountId}/talk/profiles`, input),
      /** Changes the fields given; `shown_to` replaces the list. */
      update: (accountId: number, profileId: number, input: TalkProfileInput) =>
        this.call<TalkProfile>('PATCH', `/accounts/${accountId}/talk/profiles/${profileId}`, input),
      delete: (accountId: number, profileId: number) => this.call<void>('DELETE', `/accounts/${accountId}/talk/profiles/${profileId}`),
    },
  };

  /** An app's Talk message quotas (per sender a day and a month, per receiver a day, per pair a day). */
  readonly messageQuotas = {
    get: (appId: number) => this.call<MessageQuotas>('GET', `/apps/${appId}/message_quotas`),
    set: (appId: number, input: MessageQuotasInput) => this.call<MessageQuotas>('PUT', `/apps/${appId}/message_quotas`, input),
  };

  /** An app's sharing success webhook and the calls Kapibara made to it (docs/sharing.md). */
  readonly sharingWebhook = {
    get: (appId: number) => this.call<SharingWebhook>('GET', `/apps/${appId}/sharing_webhook`),
    set: (appId: number, input: SharingWebhookInput) => this.call<SharingWebhook>('PUT', `/apps/${appId}/sharing_webhook`, input),
    delete: (appId: number) => this.call<void>('DELETE', `/apps/${appId}/sharing_webhook`),
    /** Every attempt to call it (failed ones too), newest first: the latest `limit` (default 50). */
    calls: (appId: number, filter: SharingWebhookCallsFilter = {}) =>
      this.call<{ calls: SharingWebhookCall[] }>('GET', `/apps/${appId}/sharing_webhook/calls${query(filter)}`),
  };

  /** A person's shipping addresses, as the User API lists them to apps. */
  readonly shippingAddresses = {
    add: (accountId: number, input: ShippingAddressInput) => this.call<ShippingAddress>('POST', `/accounts/${accountId}/shipping_addresses`, input),
    /** All of them, the default first and then the newest. */
    list: (accountId: number) => this.call<ShippingAddress[]>('GET', `/accounts/${accountId}/shipping_addresses`),
    delete: (accountId: number, addressId: number) => this.call<void>('DELETE', `/accounts/${accountId}/shipping_addresses/${addressId}`),
  };

  /** Group chats among simulated people who use Kakao Talk (docs/sharing.md#group-chats-control-plane). */
  readonly groupChats = {
    create: (input: GroupChatInput) => this.call<GroupChat>('POST', '/group_chats', input),
    /** Newest first: every chat, or a person's (`{ account_id }`); with `after` (a chat id) or `limit`, that page only. */
    list: (options: GroupChatListOptions = {}) => {
      const { account_id, ...page } = options;
      return this.listed<GroupChat>('/group_chats', page, { account_id });
    },
    get: (chatId: number) => this.call<GroupChat>('GET', `/group_chats/${chatId}`),
    /** Its messages, newest first, as its first member holds them; paged as `talk.messages`. */
    messages: (chatId: number, page: MessagePage = {}) => this.call<MessageList>('GET', `/group_chats/${chatId}/messages${query(page)}`),
    delete: (chatId: number) => this.call<void>('DELETE', `/group_chats/${chatId}`),
  };

  /** Kakao Story: a person's stories (with comments and moods), friends' reactions, the Story profile (docs/story.md). */
  readonly stories = {
    /** A person's stories, newest first: every one; with a page (`{ after: <story id>, limit }`), that page only. */
    list: (accountId: number, page?: StoryPage) => this.listed<Story>(`/accounts/${accountId}/stories`, page),
    get: (storyId: string) => this.call<Story>('GET', `/stories/${encodeURIComponent(storyId)}`),
    /** A note the person wrote in the Kakao Story app itself (`app_id: null`). */
    create: (accountId: number, input: StoryInput) => this.call<Story>('POST', `/accounts/${accountId}/stories`, input),
    profile: {
      get: (accountId: number) => this.call<StoryProfile>('GET', `/accounts/${accountId}/story-profile`),
      /** Sets the fields given; null clears one (the account's own value shows again). */
      set: (accountId: number, input: StoryProfileInput) => this.call<StoryProfile>('PUT', `/accounts/${accountId}/story-profile`, input),
    },
    /** Someone comments (who may follows the story's audience: 409 otherwise). */
    comments: {
      add: (storyId: string, input: StoryCommentInput) => this.call<StoryComment>('POST', `/stories/${encodeURIComponent(storyId)}/comments`, input),
      delete: (storyId: string, commentId: number) => this.call<void>('DELETE', `/stories/${encodeURIComponent(storyId)}/comments/${commentId}`),
    },
    /** A person's mood on a story (one each: a new one replaces it). */
    moods: {
      set: (storyId: string, accountId: number, emotion: Emotion) =>
        this.call<StoryMood>('PUT', `/stories/${encodeURIComponent(storyId)}/likes/${accountId}`, { emotion }),
      delete: (storyId: string, accountId: number) => this.call<void>('DELETE', `/stories/${encodeURIComponent(storyId)}/likes/${accountId}`),
    },
  };

  /** Kakao Talk Channels, by public id (`_…`): their apps, people's relations, customer files and chats (docs/channel.md). */
  readonly channels = {
    create: (input: ChannelInput) => this.call<Channel>('POST', '/channels', input),
    /** Oldest first: every channel; with a page (`{ after: <channel id>, limit }`), that page only. */
    list: (page?: ListPage) => this.listed<Channel>('/channels', page),
    get: (publicId: string) => this.call<Channel>('GET', `/channels/${encodeURIComponent(publicId)}`),
    update: (publicId: string, changes: ChannelChanges) => this.call<Channel>('PATCH', `/channels/${encodeURIComponent(publicId)}`, changes),
    delete: (publicId: string) => this.call<void>('DELETE', `/channels/${encodeURIComponent(publicId)}`),
    /** Links the channel to another app too (its owner is linked from the start). */
    link: (publicId: string, appId: number) => this.call<Channel>('PUT', `/channels/${encodeURIComponent(publicId)}/apps/${appId}`),
    /** Unlinks an app (not the owner: 409). */
    unlink: (publicId: string, appId: number) => this.call<void>('DELETE', `/channels/${encodeURIComponent(publicId)}/apps/${appId}`),
    relations: {
      /** By account id: every relation; with a page (`{ after: <account id>, limit }`), that page only. */
      list: (publicId: string, page?: ListPage) => this.listed<ChannelRelation>(`/channels/${encodeURIComponent(publicId)}/relations`, page),
      get: (publicId: string, accountId: number) => this.call<ChannelRelation>('GET', `/channels/${encodeURIComponent(publicId)}/relations/${accountId}`),
      set: (publicId: string, accountId: number, relation: ChannelRelationKind) =>
        this.call<ChannelRelation>('PUT', `/channels/${encodeURIComponent(publicId)}/relations/${accountId}`, { relation }),
    },
    /** Customer files with their first `users` customers (default 100). */
    files: (publicId: string, options: { users?: number } = {}) => this.call<ChannelFile[]>('GET', `/channels/${encodeURIComponent(publicId)}/files${query(options)}`),
    /** What people wrote on the channel's chat page (the latest 500, oldest first). */
    chats: (publicId: string) => this.call<ChannelChat[]>('GET', `/channels/${encodeURIComponent(publicId)}/chats`),
  };

  /** Push notifications of an app: its token lifetime, registered devices and what each received (docs/push.md). */
  readonly push = {
    settings: {
      get: (appId: number) => this.call<PushSettings>('GET', `/apps/${appId}/push`),
      set: (appId: number, input: PushSettings) => this.call<PushSettings>('PUT', `/apps/${appId}/push`, input),
    },
    /** Every device, by uuid then registration; with a page (`{ after_uuid, after_device_id, limit }`), that page only. */
    tokens: (appId: number, page?: PushTokenPage) => this.listed<PushToken>(`/apps/${appId}/push/tokens`, page),
    /** What devices received, newest first (`uuid`, `device_id`; `limit`, default 100). */
    inbox: (appId: number, filter: PushInboxFilter = {}) => this.call<PushDelivery[]>('GET', `/apps/${appId}/push/inbox${query(filter)}`),
  };

  /** The platform clock: token expiry and quotas follow it. */
  readonly clock = {
    get: () => this.call<ClockState>('GET', '/clock'),
    advance: (seconds: number) => this.call<ClockState>('POST', '/clock', { advance_seconds: seconds }),
    // An invalid Date goes as it prints ("Invalid Date"), for the server's 400 to name.
    set: (now: Date | string) => this.call<ClockState>('POST', '/clock', { now: typeof now === 'string' || Number.isNaN(now.getTime()) ? String(now) : now.toISOString() }),
    reset: () => this.call<ClockState>('POST', '/clock', { offset_ms: 0 }),
  };

  readonly state = {
    export: () => this.call<StateDocument>('GET', '/state'),
    /** Replaces all state with the document. */
    import: (doc: StateDocument) => this.call<{ imported: Record<string, number> }>('PUT', '/state', doc),
    /** Adds the document's rows to the state. */
    seed: (doc: StateDocument) => this.call<{ imported: Record<string, number> }>('POST', '/state', doc),
  };

  /** What apps sent to the emulated Kakao hosts (the request inspector). */
  readonly requests = {
    list: (filter: RequestFilter = {}) => this.call<RequestList>('GET', `/requests${query(filter)}`),
    clear: () => this.call<void>('DELETE', '/requests'),
  };

  /** Deletes all state (the server's signing key and certificate stay) and moves the clock back. */
  reset(): Promise<{ reset: true }> {
    return this.call('POST', '/reset');
  }

  /** Removes expired login records now, judged by the platform clock (docs/control-plane.md). */
  sweepExpired(): Promise<Sweep> {
    return this.call('POST', '/expired/sweep');
  }

  async health(): Promise<Health> {
    const res = await fetch(`${this.url}/_kapibara/health`);
    return (await res.json()) as Health;
  }
}

export interface StartOptions extends StoreOptions {
  /** Create the demo app and people (default true). */
  demo?: boolean;
  /** A state document (or the path of a JSON file) to import before serving. */
  state?: StateDocument | string;
  /** Require this token on the control plane. */
  operatorToken?: string;
  /** Fixed origin for absolute URLs (default: the one each request reached). */
  publicUrl?: string;
  /** Port to listen on (default: a free one). */
  port?: number;
  /**
   * Serve HTTPS too, on a free port, with Kapibara's certificate for the Kakao host names
   * (`running.tls`): for clients that hard-code https://kauth.kakao.com (`mapFetch`, `mappedAgent`).
   */
  tls?: boolean;
  inspector?: InspectorOptions;
}

export interface RunningKapibara {
  /** `http://127.0.0.1:<port>`: kauth, kapi and the control plane all answer here. */
  url: string;
  control: ControlClient;
  /** The demo app's keys, when it was created. */
  demo?: DemoApp;
  /** With `tls: true`: the HTTPS port (127.0.0.1) and the certificate to trust (PEM). */
  tls?: { port: number; cert: string };
  /** The Fastify instance (`app.inject` for tests that skip the network). */
  app: FastifyInstance;
  stop(): Promise<void>;
}

function readState(state: StateDocument | string): StateDocument {
  if (typeof state !== 'string') return state;
  let text: string;
  try {
    text = readFileSync(state, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${state}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as StateDocument;
  } catch (err) {
    throw new Error(`${state}: not JSON: ${(err as Error).message}`);
  }
}

/** Starts Kapibara in this process; `stop()` closes the server and its store. */
export async function startKapibara(options: StartOptions = {}): Promise<RunningKapibara> {
  const doc = options.state === undefined ? undefined : readState(options.state);
  const source = typeof options.state === 'string' ? options.state : 'state';
  const store = await openStore({ databaseUrl: options.databaseUrl, sqlitePath: options.databaseUrl ? undefined : (options.sqlitePath ?? ':memory:'), lockWaitMs: options.lockWaitMs });
  try {
    const clock = new Clock();
    if (doc) await importState(store.db, stateTables(), doc, clock.real(), { replace: true, source });
    const seeded = options.demo === false || doc ? false : await seedDemo(store.db, clock.now());
    const app = await buildApp({ store, clock, operatorToken: options.operatorToken, publicUrl: options.publicUrl, inspector: options.inspector });
    await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const https = options.tls ? await listenTls(app, { port: 0 }) : undefined;
    const hasDemo = seeded || Boolean(await store.db.selectFrom('apps').select('id').where('id', '=', DEMO_APP_ID).executeTakeFirst());
    return {
      url,
      app,
      control: new ControlClient(url, options.operatorToken),
      demo: hasDemo ? DEMO_APP : undefined,
      tls: https && {
        port: https.port,
        get cert() {
          return https.cert;
        },
      },
      async stop() {
        await https?.close();
        await app.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** A control-plane client for a Kapibara that is already running (default: `$KAPIBARA_URL`). */
export function connectKapibara(url: string | undefined = process.env.KAPIBARA_URL, operatorToken = process.env.KAPIBARA_OPERATOR_TOKEN): ControlClient {
  if (!url) throw new Error('connectKapibara: no URL given and KAPIBARA_URL is not set');
  return new ControlClient(url.replace(/\/$/, ''), operatorToken || undefined);
}
