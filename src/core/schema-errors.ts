import type { TSchema } from '@sinclair/typebox';
import type { ValueError } from '@sinclair/typebox/errors';
import type { ErrorObject } from 'ajv';

/**
 * How a schema failure reads, for both checkers: TypeBox (kapi parameters, JSON inside form
 * fields, JSON bodies of kapi routes) and Ajv (control-plane bodies, state documents). The
 * libraries' own words for a value outside a fixed set ("Expected union value", "must be
 * equal to constant" once per allowed value) name nothing the caller can act on; here a
 * literal or a union of them names the values allowed: "must be asc or desc".
 */

/** `a`, `a or b`, `one of a, b, c`. */
export function alternatives(options: readonly string[]): string {
  const unique = [...new Set(options)];
  if (unique.length <= 2) return unique.join(' or ');
  return `one of ${unique.join(', ')}`;
}

/** What a TypeBox error says about its value, without the parameter's name. */
export function typeBoxProblem(error: ValueError): string {
  const schema = error.schema as TSchema;
  if (schema.const !== undefined) return `must be ${alternatives([String(schema.const)])}`;
  const branches = schema.anyOf as TSchema[] | undefined;
  // "Expected boolean." names nothing a form field can be: its two values do.
  if (!branches && schema.type === 'boolean') return 'must be true or false';
  if (!branches) return error.message;
  // A value of the type of exactly one branch that is no literal (an id that is a string, but
  // empty): that branch names the problem.
  const sameType = branches.map((b, i) => [b, i] as const).filter(([b]) => b.const === undefined && hasType(b, error.value));
  if (sameType.length === 1) {
    const inner = error.errors[sameType[0][1]]?.First();
    if (inner) return typeBoxProblem(inner);
  }
  return `must be ${alternatives(branches.map(describeBranch))}`;
}

function describeBranch(schema: TSchema): string {
  if (schema.const !== undefined) return String(schema.const);
  switch (schema.type) {
    case 'integer':
      return 'an integer';
    case 'array':
      return 'an array';
    case 'object':
      return 'an object';
    case 'null':
      return 'null';
    case 'boolean':
      return 'true or false';
    default:
      return typeof schema.type === 'string' ? `a ${schema.type}` : 'another value';
  }
}

function hasType(schema: TSchema, value: unknown): boolean {
  switch (schema.type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return false;
  }
}

/**
 * Ajv's errors with each `anyOf` read as one: a value that fits no branch (a nullable field,
 * `T | null`, or a set of literals) gets one error per branch and one for the `anyOf` itself:
 * "name must NOT have more than 50 characters, name must be null, name must match a schema in
 * anyOf". Only the branch whose type the value has names the problem; when no branch does, or
 * the branches are literals: "must be string or null", "must be one of female, male, null".
 */
export function readableAjvErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  let out: ErrorObject[] = [];
  for (const e of errors) {
    if (e.keyword !== 'anyOf') {
      out.push(e);
      continue;
    }
    // Ajv reports the branches' errors before the anyOf's own.
    const branches = out.filter((b) => b.schemaPath.startsWith(`${e.schemaPath}/`));
    out = out.filter((b) => !branches.includes(b));
    const here = (b: ErrorObject) => b.instancePath === e.instancePath;
    const outsideSet = (b: ErrorObject) => here(b) && (b.keyword === 'type' || b.keyword === 'const');
    const real = branches.filter((b) => !outsideSet(b));
    if (real.length) {
      out.push(...real);
      continue;
    }
    // One alternative per branch: its constant, or its type.
    const perBranch = new Map<string, string>();
    for (const b of branches) {
      const branch = b.schemaPath.slice(e.schemaPath.length + 1).split('/')[0];
      const params = b.params as { allowedValue?: unknown; type?: unknown };
      const says = b.keyword === 'const' ? String(params.allowedValue) : String(params.type);
      // A literal's constant says more than its type.
      if (b.keyword === 'const' || !perBranch.has(branch)) perBranch.set(branch, says);
    }
    out.push({ ...e, message: `must be ${alternatives([...perBranch.values()])}` });
  }
  return out;
}
