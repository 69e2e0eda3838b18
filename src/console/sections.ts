import type { Platform } from '../core/platform.js';
import type { Account } from '../store/accounts.js';
import type { RawHtml } from '../core/html.js';

/** What a product adds to a person's console page (their chats, their stories…). */
export type ConsoleSection = (platform: Platform, person: Account) => Promise<RawHtml>;

export const consoleSections: ConsoleSection[] = [];
