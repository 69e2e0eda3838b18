import type { FastifyRequest } from 'fastify';
import { type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { invalidParam } from './errors.js';
import { jsonTextProblem } from './json.js';
import { typeBoxProblem } from './schema-errors.js';

/**
 * Kakao clients send parameters as form fields or query strings, sometimes POST fields in
 * the query (wire facts §1.2). `params()` merges both (body wins), converts strings to the
 * schema's types and reports the first problem as -2 naming the parameter.
 */

export type RawParams = Record<string, string | string[] | undefined>;

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checker<T extends TSchema>(schema: T): TypeCheck<T> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check as TypeCheck<T>;
}

export function rawParams(req: FastifyRequest): RawParams {
  const query = (req.query ?? {}) as RawParams;
  // A form's fields (a repeated one an array of strings in order): a route with parameters
  // takes no JSON body (core/json.ts).
  const body = req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? (req.body as RawParams) : {};
  const merged: RawParams = {};
  for (const [k, v] of Object.entries(query)) merged[k] = v;
  for (const [k, v] of Object.entries(body)) if (v !== undefined) merged[k] = v;
  return merged;
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/**
 * Conversion alone would read `1e3` or `1.5` as the integer 1; a number parameter must be
 * written as one (decimal seconds such as `1538448856.0` are numbers, not integers).
 */
function numericTextOk(schema: TSchema | undefined, text: string): boolean {
  if (schema?.type === 'integer') return INTEGER_TEXT.test(text);
  if (schema?.type === 'number') return NUMBER_TEXT.test(text);
  return true;
}

/** Validates already-merged raw values against a TypeBox object schema. */
export function validateParams<T extends TSchema>(schema: T, raw: RawParams): Static<T> {
  const check = checker(schema);
  const value: Record<string, unknown> = {};
  const props = (schema as unknown as { properties?: Record<string, TSchema> }).properties ?? {};
  for (const key of Object.keys(props)) {
    let v = raw[key];
    // A repeated key arrives as an array; scalar parameters take the last one.
    if (Array.isArray(v) && props[key]?.type !== 'array') v = v[v.length - 1];
    // Some SDKs send the literal text `null` (or an empty string) for an absent value.
    if (v === 'null' || v === '') continue;
    if (typeof v === 'string' && !numericTextOk(props[key], v)) {
      throw invalidParam(`invalid ${key}: Expected ${props[key].type === 'integer' ? 'integer' : 'number'}.`);
    }
    if (v !== undefined) value[key] = v;
  }
  const converted = Value.Convert(schema, value);
  if (check.Check(converted)) return converted as Static<T>;
  const first = check.Errors(converted).First();
  const name = first?.path.replace(/^\//, '').split('/')[0] || 'parameter';
  if (first && (converted as Record<string, unknown>)[name] === undefined) {
    throw invalidParam(`${name} is required.`);
  }
  throw invalidParam(`invalid ${name}: ${first ? typeBoxProblem(first) : 'bad value'}.`);
}

export function params<T extends TSchema>(req: FastifyRequest, schema: T): Static<T> {
  return validateParams(schema, rawParams(req));
}

/**
 * Parses a JSON-encoded parameter (`property_keys=["..."]`, `template_object={...}`) and
 * checks its shape; -2 names the parameter when it is not valid JSON or not the right shape.
 */
export function jsonParam<T extends TSchema>(name: string, text: string | undefined, schema: T): Static<T> | undefined {
  if (text === undefined || text === 'null' || text === '') return undefined;
  const problem = jsonTextProblem(text);
  if (problem) throw invalidParam(`invalid ${name}: ${problem}.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidParam(`invalid ${name}: not a valid JSON.`);
  }
  if (value === null) return undefined;
  const check = checker(schema);
  if (!check.Check(value)) {
    const first = check.Errors(value).First();
    const where = first?.path ? `${name}${first.path.replace(/\//g, '.')}` : name;
    throw invalidParam(`invalid ${where}: ${first ? typeBoxProblem(first) : 'bad value'}.`);
  }
  return value as Static<T>;
}

/** `tags` and similar lists: repeated keys, a comma-joined string, or a JSON array. */
export function listParam(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined || value === 'null' || value === '') return undefined;
  const parts = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const part of parts) {
    const trimmed = part.trim();
    if (trimmed.startsWith('[')) {
      const problem = jsonTextProblem(trimmed);
      if (problem) throw invalidParam(`invalid list parameter: ${problem}.`);
      try {
        const arr = JSON.parse(trimmed);
        if (Array.isArray(arr)) {
          for (const item of arr) out.push(String(item));
          continue;
        }
      } catch {
        throw invalidParam('invalid list parameter: not a valid JSON array.');
      }
    }
    for (const piece of trimmed.split(',')) if (piece.trim()) out.push(piece.trim());
  }
  return out;
}

