import { readFileSync } from 'node:fs';
import { PACKAGE_JSON } from './paths.js';

/** Kapibara's version, from its package.json. */
export const VERSION: string = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;
