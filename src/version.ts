import { readFileSync } from 'node:fs';

/** Kapibara's version, from the package.json next to the build (dist/src → ../../). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
