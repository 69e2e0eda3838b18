import { describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { MAX_JSON_DEPTH, jsonTooDeep } from '../src/core/json.js';

const nested = (depth: number) => '{"a":'.repeat(depth - 1) + '[1]' + '}'.repeat(depth - 1);

describe('JSON depth bound (core/json.ts)', () => {
  it('passes 64 levels and refuses 65, whether objects or arrays nest', () => {
    assert.equal(jsonTooDeep(nested(MAX_JSON_DEPTH)), false);
    assert.equal(jsonTooDeep(nested(MAX_JSON_DEPTH + 1)), true);
    assert.equal(jsonTooDeep('['.repeat(64) + ']'.repeat(64)), false);
    assert.equal(jsonTooDeep('['.repeat(65) + ']'.repeat(65)), true);
    assert.equal(JSON.parse(nested(3)).a.a[0], 1);
  });

  it('counts no bracket inside a string, and many shallow objects are not deep', () => {
    assert.equal(jsonTooDeep(`{"text":"${'{['.repeat(200)}"}`), false);
    assert.equal(jsonTooDeep(`{"text":"\\"${'['.repeat(100)}"}`), false);
    assert.equal(jsonTooDeep(`[${Array(200).fill('{"a":[1]}').join(',')}]`), false);
    // Deep after a string full of brackets: still found.
    assert.equal(jsonTooDeep(`["${'['.repeat(100)}",${'['.repeat(65)}${']'.repeat(65)}]`), true);
  });
});
