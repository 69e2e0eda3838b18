/**
 * The SDK pages' own table: not state (it is neither exported nor imported), a count that
 * triggers on `apps` move whenever the web domains some app registered may have changed.
 */

/** One row (id 1): `gen` moves on every insert and delete of an app and every change of its web_domains (066). */
export interface SdkWebDomainChangesTable {
  id: number;
  gen: number;
}

declare module '../../db/schema.js' {
  interface DB {
    sdk_web_domain_changes: SdkWebDomainChangesTable;
  }
}
