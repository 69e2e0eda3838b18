import type { DB } from '../db/schema.js';

/** A table in the state format: its name and which columns hold JSON text. */
export interface TableSpec {
  name: keyof DB & string;
  json: string[];
}
