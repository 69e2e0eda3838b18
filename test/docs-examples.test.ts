import { after, before, describe, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { Clock } from '../src/core/clock.js';
import type { Store } from '../src/db/index.js';
import { freshStore, storeKinds } from './helpers/stores.js';

/**
 * The HTTP examples of docs/channel.md, docs/push.md and docs/system.md, run as written:
 * each page's seed is imported, then every ```http kapibara-request block is sent and its
 * answer compared with the ```http kapibara-response block after it (status and body).
 * In an expected body, "<any>" matches any value; a placeholder captures one, which later
 * requests and answers of the page use in its place: written bare (<name>) it stands for
 * any JSON value (a number, as the answer had it), quoted ("<name>") for a string, so a
 * quoted placeholder for a number puts that number in quotes, as a reader would.
 */

const DOCS = ['channel.md', 'push.md', 'system.md'];
/** The examples' time: 2026-01-01T00:00:00Z, with the platform clock held still. */
const EXAMPLE_TIME = Date.parse('2026-01-01T00:00:00Z');

interface Example {
  request: string;
  response: string;
}

function parseDoc(text: string): { seed: unknown; examples: Example[] } {
  const seed = /```json kapibara-seed\n([\s\S]*?)```/.exec(text);
  assert.ok(seed, 'a page with examples has a seed');
  const blocks = [...text.matchAll(/```http kapibara-(request|response)\n([\s\S]*?)```/g)];
  const examples: Example[] = [];
  for (let i = 0; i < blocks.length; i += 2) {
    assert.equal(blocks[i][1], 'request', `block ${i} should be a request`);
    assert.equal(blocks[i + 1]?.[1], 'response', `request ${i} has no response`);
    examples.push({ request: blocks[i][2], response: blocks[i + 1][2] });
  }
  return { seed: JSON.parse(seed[1]), examples };
}

/** Marks a bare placeholder not captured yet, so that an expected body parses as JSON. */
const BARE = '\u0001';

function substitute(text: string, captured: Map<string, unknown>): string {
  return text.replace(/("?)<(\w+)>("?)/g, (whole, open: string, name: string, close: string) => {
    if (name === 'any' || !captured.has(name)) return whole;
    const value = captured.get(name);
    if (!open && !close) return JSON.stringify(value);
    // Quoted: the value's text inside the quotes (a number becomes a string, as a reader would send it).
    return `${open}${JSON.stringify(typeof value === 'string' ? value : JSON.stringify(value)).slice(1, -1)}${close}`;
  });
}

function parseExpected(text: string): unknown {
  return JSON.parse(text.replace(/(?<!")<(\w+)>(?!")/g, (_whole, name: string) => JSON.stringify(BARE + name)));
}

function matches(expected: unknown, actual: unknown, captured: Map<string, unknown>, path: string): void {
  const bare = typeof expected === 'string' && expected.startsWith(BARE);
  if (bare || (typeof expected === 'string' && /^<\w+>$/.test(expected))) {
    const name = bare ? expected.slice(1) : expected.slice(1, -1);
    if (name === 'any') return;
    if (!bare) assert.equal(typeof actual, 'string', `${path}: "<${name}>" is quoted, so it stands for a string, but the answer has ${JSON.stringify(actual)}`);
    if (captured.has(name)) assert.deepEqual(actual, captured.get(name), path);
    else captured.set(name, actual);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((e, i) => matches(e, (actual as unknown[])[i], captured, `${path}[${i}]`));
    return;
  }
  if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object' && !Array.isArray(actual), `${path}: expected an object`);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${path}: fields`);
    for (const [k, v] of Object.entries(expected)) matches(v, (actual as Record<string, unknown>)[k], captured, `${path}.${k}`);
    return;
  }
  assert.deepEqual(actual, expected, path);
}

async function run(app: FastifyInstance, example: Example, captured: Map<string, unknown>): Promise<void> {
  const [head, ...rest] = substitute(example.request, captured).split('\n\n');
  const [line, ...headerLines] = head.split('\n');
  const [method, url] = line.split(' ');
  const headers = Object.fromEntries(headerLines.filter(Boolean).map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
  const body = rest.join('\n\n').replace(/\n$/, '');
  const res = await app.inject({ method: method as 'GET', url, headers, payload: body || undefined });
  const [statusLine, ...answer] = example.response.split('\n\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
  assert.equal(res.statusCode, status, `${line}: ${res.body}`);
  const expected = answer.join('\n\n').trim();
  if (!expected) {
    assert.equal(res.body, '', line);
    return;
  }
  const want = parseExpected(substitute(expected, captured));
  matches(want, res.json(), captured, line);
}

for (const kind of storeKinds()) {
  describe(`documented HTTP examples [${kind}]`, () => {
    let store: Store;
    let app: FastifyInstance;
    before(async () => {
      store = await freshStore(kind);
      app = await buildApp({ store, clock: new Clock(() => EXAMPLE_TIME) });
      await app.ready();
    });
    after(async () => {
      await app.close();
      await store.close();
    });

    for (const doc of DOCS) {
      it(`docs/${doc}`, async () => {
        const { seed, examples } = parseDoc(readFileSync(join(process.cwd(), 'docs', doc), 'utf8'));
        assert.ok(examples.length > 0);
        assert.equal((await app.inject({ method: 'POST', url: '/_kapibara/v1/reset', headers: { 'x-kapibara-control': '1' } })).statusCode, 200);
        const imported = await app.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: seed as object });
        assert.equal(imported.statusCode, 200, imported.body);
        const captured = new Map<string, unknown>();
        for (const example of examples) await run(app, example, captured);
      });
    }
  });
}
