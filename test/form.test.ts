import { describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { parseForm } from '../src/core/form.js';

/** The form-body parser every kapi POST goes through. */
describe('application/x-www-form-urlencoded bodies', () => {
  const plain = (body: string) => ({ ...parseForm(body) });

  it('decodes names and values like URLSearchParams does', () => {
    const template = JSON.stringify({ object_type: 'text', text: '안녕 & 😀 100%', link: { web_url: 'https://a.test/?q=1&r=2' } });
    const body = new URLSearchParams({ template_object: template, 'na me': 'a+b c' }).toString();
    assert.deepEqual(plain(body), { template_object: template, 'na me': 'a+b c' });
    assert.deepEqual(plain('a=1+2&b=%2B%26%3D'), { a: '1 2', b: '+&=' });
    // encodeURIComponent's output (spaces as %20) and a raw, unencoded UTF-8 value.
    assert.deepEqual(plain(`t=${encodeURIComponent('x y/z')}&k=한글`), { t: 'x y/z', k: '한글' });
  });

  it('a repeated name gives every value in order; other names stay single', () => {
    assert.deepEqual(plain('tags=a&tags=b&one=1&tags=c'), { tags: ['a', 'b', 'c'], one: '1' });
  });

  it('empty pairs, missing values and missing = signs', () => {
    assert.deepEqual(plain(''), {});
    assert.deepEqual(plain('&&a=&b&=c&'), { a: '', b: '', '': 'c' });
    assert.deepEqual(plain('a==b'), { a: '=b' });
  });

  it('malformed escapes are kept literally instead of failing the request', () => {
    assert.deepEqual(plain('a=100%&b=%zz1&c=%E4%B8'), { a: '100%', b: '%zz1', c: '\ufffd' });
    assert.deepEqual(plain('a=%41%zz'), { a: 'A%zz' });
  });

  it('has no prototype: __proto__ and constructor are plain fields', () => {
    const fields = parseForm('__proto__=x&constructor=y&toString=z');
    assert.equal(Object.getPrototypeOf(fields), null);
    assert.deepEqual({ ...fields }, { ['__proto__']: 'x', constructor: 'y', toString: 'z' });
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it('takes at most 1,000 fields: a 12 MB body of a million fields held the event loop for seconds', () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=${i}`).join('&');
    assert.equal(Object.keys(parseForm(fields(1000))).length, 1000);
    assert.throws(() => parseForm(fields(1001)), (err: Error & { statusCode?: number }) => err.statusCode === 400 && /more than 1000 fields/.test(err.message));
    // Repeated names count too: each is a field.
    assert.throws(() => parseForm('a=1&'.repeat(1001)), /more than 1000 fields/);
  });
});
