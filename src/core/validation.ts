import { Ajv, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Route schema validation. Path parameters and query strings arrive as text, so they are
 * coerced to the schema's types; JSON bodies are not: coercion would quietly turn `null`
 * into `""` (or `"1"` into 1) where the caller meant exactly what they sent.
 */
export function installValidation(app: FastifyInstance): void {
  const base: Options = { allErrors: false, removeAdditional: false, useDefaults: true, allowUnionTypes: true };
  // Made with the first schema compiled, as the schemas are: not by a server that is starting.
  let coercing: Ajv | undefined;
  let exact: Ajv | undefined;
  const made: LazyValidate[] = [];
  validators.set(app, made);
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const validate = lazily(() =>
      httpPart === 'body'
        ? (exact ??= addFormats(new Ajv({ ...base, coerceTypes: false }))).compile(schema)
        : finiteOnly((coercing ??= addFormats(new Ajv({ ...base, coerceTypes: 'array' }))).compile(schema)),
    );
    made.push(validate);
    return validate;
  });
  // Response schemas: Fastify's own serializer (fast-json-stringify), compiled on first use too.
  const serializer = SerializerSelector()({}, {});
  const serializers: LazySerializer[] = [];
  lazySerializers.set(app, serializers);
  app.setSerializerCompiler((def) => {
    const route = { ...def, httpStatus: def.httpStatus ?? '200' } as Parameters<typeof serializer>[0];
    let serialize: ((data: unknown) => string) | undefined;
    const lazy = ((data: unknown) => (serialize ??= serializer(route))(data)) as LazySerializer;
    lazy.compileNow = () => {
      serialize ??= serializer(route);
    };
    serializers.push(lazy);
    return lazy;
  });
}

/**
 * A validator for JSON values outside a route (the rows of a state document), made as a JSON
 * body's is: the same limits count the same way (Ajv counts characters, not UTF-16 units as
 * TypeBox's own checker does) and say the same thing.
 */
export function jsonValidator(schema: object): ValidateFunction {
  jsonValues ??= addFormats(new Ajv({ allErrors: false, removeAdditional: false, useDefaults: false, allowUnionTypes: true, coerceTypes: false }));
  return jsonValues.compile(schema);
}
let jsonValues: Ajv | undefined;

type LazySerializer = ((data: unknown) => string) & { compileNow(): void };
const lazySerializers = new WeakMap<FastifyInstance, LazySerializer[]>();

type LazyValidate = ValidateFunction & { compileNow(): void };
const validators = new WeakMap<FastifyInstance, LazyValidate[]>();

/**
 * Compiling every route's schemas when the routes are registered was a third of a cold
 * start (docs/benchmarks.md), and most are never used by one test file's instance: each is
 * compiled on its first request instead. test/validation-compile.test.ts compiles them all,
 * so a schema Ajv refuses still fails the build's tests rather than a user's first call.
 */
function lazily(compile: () => ValidateFunction): LazyValidate {
  let validate: ValidateFunction | undefined;
  const lazy = ((data: unknown) => {
    validate ??= compile();
    const ok = validate(data);
    lazy.errors = validate.errors;
    return ok;
  }) as LazyValidate;
  lazy.compileNow = () => {
    validate ??= compile();
  };
  return lazy;
}

/** Compiles now every schema (parameters, bodies and answers) the routes of `app` registered (the check of lazily's promise). */
export function compileEveryRouteSchema(app: FastifyInstance): number {
  let count = 0;
  for (const validate of [...(validators.get(app) ?? []), ...(lazySerializers.get(app) ?? [])]) {
    validate.compileNow();
    count++;
  }
  return count;
}

/**
 * Ajv coerces the text `Infinity` (or `1e400`) to a number and then skips every numeric
 * check (minimum, maximum) for a value that is not finite: `/apps/Infinity` reached a
 * query. Path and query values are flat, so a non-finite number among them is refused.
 */
function finiteOnly(validate: ValidateFunction): ValidateFunction {
  const checked = ((data: unknown) => {
    if (!validate(data)) {
      checked.errors = validate.errors;
      return false;
    }
    for (const [key, value] of Object.entries((data ?? {}) as Record<string, unknown>)) {
      if (typeof value === 'number' && !Number.isFinite(value)) {
        checked.errors = [{ instancePath: `/${key}`, schemaPath: '#/type', keyword: 'type', params: {}, message: 'must be a finite number' }];
        return false;
      }
    }
    checked.errors = null;
    return true;
  }) as ValidateFunction;
  return checked;
}
