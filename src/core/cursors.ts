/**
 * A place in a list that several query fields name together (a "Next" link, a `Link`
 * header): when only some of them are given, the ones missing and the ones given, for the
 * surface's own 400; undefined when all of them or none are.
 */
export function cursorMissing(query: Readonly<Record<string, unknown>>, names: readonly string[]): { missing: string[]; given: string[] } | undefined {
  const given = names.filter((name) => query[name] !== undefined);
  if (given.length === 0 || given.length === names.length) return undefined;
  return { missing: names.filter((name) => query[name] === undefined), given };
}
