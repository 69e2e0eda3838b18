/** Tables of the Talk product (see src/db/schema.ts for the shared conventions). */
import type { TableSpec } from '../../store/state-tables.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TalkTables {}

/** This product's tables in export/import/reset order (parents first). */
export const talkStateTables: TableSpec[] = [];
