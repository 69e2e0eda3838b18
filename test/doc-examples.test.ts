import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKapibara } from '../src/testing.js';

/**
 * Every example in README.md and docs/*.md runs as written (the convention is in
 * docs/design.md, "Examples in the docs"):
 * - ```sh blocks: each line starting with `$ ` is a command (a trailing `\` or an open quote
 *   continues it),
 *   the lines after it until the next command are its output (stdout and stderr), where
 *   `…` stands for any text within a line. Each block runs in one bash session against a
 *   fresh Kapibara (demo app and people included) reached as `localhost:9876`, in an
 *   empty folder, with `npx kapibara` being this build.
 * - ```<lang> file=<path> blocks are files test/package.test.ts writes into a throwaway
 *   project and runs there; ```json kapibara-seed blocks are imported by test/docs.test.ts.
 * - ```<lang> no-run: <reason> blocks are not run: counted and listed here with their reason.
 * - ```http / ```json / ```text and unlabelled blocks are wire samples and synopses, not
 *   commands: counted and listed.
 * Any other block (a shell block without `$` commands, code with neither `file=` nor
 * `no-run`) fails the test: an example is either run or says why not.
 */

const ROOT = process.cwd();
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const DOC_ORIGIN = 'localhost:9876';
const SHELLS = new Set(['sh', 'shell', 'bash', 'console']);
const SAMPLES = new Set(['', 'http', 'json', 'text', 'jsonc']);

interface Block {
  file: string;
  line: number;
  lang: string;
  info: string;
  body: string;
}

function blocks(): Block[] {
  const files = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f))];
  const out: Block[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^```(.*)$/.exec(lines[i]);
      if (!open) continue;
      const start = i;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
      const info = open[1].trim();
      out.push({ file: file.slice(ROOT.length + 1), line: start + 1, lang: info.split(/\s+/)[0], info, body: body.join('\n') });
    }
  }
  return out;
}

interface Command {
  command: string;
  expected: string[];
}

function commands(body: string): Command[] {
  const out: Command[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('$ ')) {
      let command = line.slice(2);
      while ((command.endsWith('\\') || openQuote(command)) && i + 1 < lines.length) command += `\n${lines[++i]}`;
      out.push({ command, expected: [] });
    } else if (out.length) out[out.length - 1].expected.push(line);
    else if (line.trim() !== '') throw new Error(`text before the first $ command: ${line}`);
  }
  return out;
}

/** Whether `text` ends inside a shell quote (a command may span lines there). */
function openQuote(text: string): boolean {
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') quote = undefined;
    } else if (c === '\\') i++;
    else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
      const end = text.indexOf('\n', i);
      if (end < 0) return false;
      i = end;
    }
  }
  return quote !== undefined;
}

function matches(expected: string[], actual: string[]): boolean {
  if (expected.length !== actual.length) return false;
  return expected.every((e, i) => new RegExp(`^${e.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(actual[i]));
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { cwd, env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (_err, stdout) => resolve(stdout));
  });
}

it('every example in the docs runs as written, or says why not', { timeout: 1_800_000 }, async (t) => {
  const all = blocks();
  const failures: string[] = [];
  const notRun: string[] = [];
  const samples: string[] = [];
  const elsewhere: string[] = [];
  let ran = 0;
  const work = mkdtempSync(join(tmpdir(), 'kapibara-docs-'));
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const runCli = `${JSON.stringify(process.execPath)} --input-type=module -e ${JSON.stringify(
    `import(${JSON.stringify(CLI)}).then((m) => m.main(process.argv.slice(1))).catch((e) => { console.error(e.message); process.exit(e.exitCode ?? 1); })`,
  ).replace(/\$/g, '\\$')} -- "$@"`;
  writeFileSync(join(bin, 'kapibara'), `#!/bin/bash\nexec ${runCli}\n`);
  writeFileSync(join(bin, 'npx'), `#!/bin/bash\nif [ "$1" = kapibara ]; then shift; exec ${runCli}; fi\necho "npx $1: only npx kapibara runs in doc examples" >&2; exit 127\n`);
  chmodSync(join(bin, 'kapibara'), 0o755);
  chmodSync(join(bin, 'npx'), 0o755);
  try {
    for (const b of all) {
      const where = `${b.file}:${b.line}`;
      const noRun = /\bno-run\b:?\s*(.*)$/.exec(b.info);
      if (noRun) {
        if (!noRun[1]) failures.push(`${where}: "no-run" needs a reason (\`\`\`${b.lang} no-run: why)`);
        notRun.push(`${where} (${b.lang || 'text'}): ${noRun[1]}`);
        continue;
      }
      if (/\bfile=\S+/.test(b.info)) {
        elsewhere.push(`${where}: ${b.info} (test/package.test.ts)`);
        continue;
      }
      if (b.info === 'json kapibara-seed') {
        elsewhere.push(`${where}: seed (test/docs.test.ts)`);
        continue;
      }
      if (b.lang === '' && /^(\$ )?(curl|npx|npm|kapibara|node) /m.test(b.body)) {
        failures.push(`${where}: an unlabelled block with commands: make it \`\`\`sh with "$ " commands, or \`\`\`sh no-run: <reason>`);
        continue;
      }
      if (SAMPLES.has(b.lang)) {
        samples.push(`${where} (${b.lang || 'text'})`);
        continue;
      }
      if (!SHELLS.has(b.lang)) {
        failures.push(`${where}: a \`\`\`${b.lang} block is neither run (file=…) nor marked \`\`\`${b.lang} no-run: <reason>`);
        continue;
      }
      let cmds: Command[];
      try {
        cmds = commands(b.body);
      } catch (err) {
        failures.push(`${where}: ${(err as Error).message}`);
        continue;
      }
      if (cmds.length === 0) {
        failures.push(`${where}: a shell block without "$ " commands: prefix the commands with "$ " (output below them), or mark it no-run: <reason>`);
        continue;
      }
      ran++;
      const kapibara = await startKapibara();
      const port = new URL(kapibara.url).port;
      const dir = mkdtempSync(join(work, 'run-'));
      try {
        const script = cmds.map((c, i) => `printf '\\n@@@ %d\\n' ${i}\n${c.command.replaceAll(DOC_ORIGIN, `127.0.0.1:${port}`)}`).join('\n');
        const output = await bash(`exec 2>&1\n${script}\nprintf '\\n@@@ end\\n'`, dir, { PATH: `${bin}:${process.env.PATH}`, KAPIBARA_EXAMPLE_PORT: port });
        const parts = output.split(/\n@@@ (?:\d+|end)\n/);
        cmds.forEach((c, i) => {
          const actual = (parts[i + 1] ?? '').replaceAll(`127.0.0.1:${port}`, DOC_ORIGIN).replace(/\s+$/, '');
          const actualLines = actual === '' ? [] : actual.split('\n').map((l) => l.replace(/\s+$/, ''));
          const expected = [...c.expected];
          while (expected.length && expected[expected.length - 1].trim() === '') expected.pop();
          if (!matches(expected.map((l) => l.replace(/\s+$/, '')), actualLines)) {
            failures.push(`${where}: $ ${c.command}\n    expected:\n${expected.map((l) => `      ${l}`).join('\n') || '      (nothing)'}\n    got:\n${actualLines.map((l) => `      ${l}`).join('\n') || '      (nothing)'}`);
          }
        });
        if (parts.length < cmds.length + 2) failures.push(`${where}: the block stopped before its end (an exit, or a command that did not return)`);
      } finally {
        await kapibara.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  t.diagnostic(`${ran} shell examples run; ${elsewhere.length} run by other tests; ${samples.length} samples; ${notRun.length} not run:`);
  for (const n of notRun) t.diagnostic(`  not run: ${n}`);
  for (const s of samples) t.diagnostic(`  sample: ${s}`);
  assert.deepEqual(failures, []);
  assert.ok(ran >= 10, `only ${ran} shell examples found`);
});
