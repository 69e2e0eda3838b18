import type { DB } from '../db/schema.js';

/**
 * A table in the state format: its name, which columns hold JSON text (written as JSON
 * values) and which hold bytes (written as base64 strings).
 */
export interface TableSpec {
  name: keyof DB & string;
  json: string[];
  binary?: string[];
}
