import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { forEachStore } from './helpers/harness.js';

// The test runner runs from the project root (scripts/test.js).
const ROOT = process.cwd();
const DOCS = join(ROOT, 'docs');

/** Every ```json kapibara-seed block in docs/ and the README. */
function seedExamples(): { file: string; json: string }[] {
  const files = [...readdirSync(DOCS).map((f) => join(DOCS, f)), join(ROOT, 'README.md')].filter((f) => f.endsWith('.md'));
  const out: { file: string; json: string }[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/```json kapibara-seed\n([\s\S]*?)```/g)) out.push({ file, json: m[1] });
  }
  return out;
}

forEachStore('documented seed examples', (h) => {
  it('every seed example in the docs imports', async () => {
    const examples = seedExamples();
    assert.ok(examples.length > 0, `no seed examples found under ${DOCS}`);
    for (const ex of examples) {
      await h.reset();
      const res = await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: JSON.parse(ex.json) });
      assert.equal(res.statusCode, 200, `${ex.file}: ${res.body}`);
    }
  });
});
