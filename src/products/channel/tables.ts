/** Tables of the Kakao Talk Channel product (see src/db/schema.ts for the shared conventions). */
import type { TableSpec } from '../../db/tables.js';
import type { Bool } from '../../db/schema.js';

/** A Kakao Talk Channel, owned by the app that created it. */
export interface ChannelsTable {
  id: number;
  /** `_xxxx`: what the APIs and pf.kakao.com URLs name it by (channel_public_id). */
  public_id: string;
  /** `@name`: the search id people find it by, answered as `channel_uuid`. */
  search_id: string;
  name: string;
  profile_image_url: string | null;
  owner_app_id: number;
  /** 1: the channel is banned (-544). */
  banned: Bool;
  created_at: number;
}

/** The apps a channel is linked to (its owner included): the apps that may read its relations. */
export interface ChannelAppsTable {
  channel_id: number;
  app_id: number;
  linked_at: number;
}

/** A person's relation to a channel; no row is `NONE`. */
export interface ChannelRelationsTable {
  channel_id: number;
  account_id: number;
  relation: 'ADDED' | 'BLOCKED';
  /** When the person first added or blocked the channel. */
  created_at: number;
  updated_at: number;
}

/** What a person wrote to a channel on its chat page. */
export interface ChannelChatMessagesTable {
  id: number;
  channel_id: number;
  account_id: number;
  text: string;
  created_at: number;
}

/** A customer file (target user file) of a channel; its schema is fixed at creation. */
export interface ChannelFilesTable {
  id: number;
  channel_id: number;
  app_id: number;
  file_name: string;
  /** JSON Record<field, 'string' | 'number'> */
  schema: string;
  created_at: number;
  updated_at: number;
}

/** One customer in a customer file. */
export interface ChannelFileUsersTable {
  file_id: number;
  user_type: 'app' | 'phone';
  user_id: string;
  /** JSON Record<field, string | number>: the values of the file's schema fields. */
  fields: string;
  updated_at: number;
}

export interface ChannelTables {
  channels: ChannelsTable;
  channel_apps: ChannelAppsTable;
  channel_relations: ChannelRelationsTable;
  channel_chat_messages: ChannelChatMessagesTable;
  channel_files: ChannelFilesTable;
  channel_file_users: ChannelFileUsersTable;
}

declare module '../../db/schema.js' {
  interface DB extends ChannelTables {}
}

export const channelTables: TableSpec[] = [
  { name: 'channels', json: [] },
  { name: 'channel_apps', json: [] },
  { name: 'channel_relations', json: [] },
  { name: 'channel_chat_messages', json: [] },
  { name: 'channel_files', json: ['schema'] },
  { name: 'channel_file_users', json: ['fields'] },
];
