import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POOL_SIZE } from '../src/db/index.js';
import { forEachStore } from './helpers/harness.js';
import { buildApp } from '../src/app.js';
import { parseServerConfig } from '../src/config.js';
import { TLS_HOST_NAMES, TLS_IPS } from '../src/core/tls.js';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The test runner runs from the project root (scripts/test.js).
const ROOT = process.cwd();
const DOCS = join(ROOT, 'docs');
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

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

/** The body of the fenced block in `file` whose info string starts with `info`. */
function fencedBlock(file: string, info: string): string {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const start = text.indexOf(`\`\`\`${info}`);
  assert.ok(start >= 0, `${file}: no \`\`\`${info} block`);
  const bodyStart = text.indexOf('\n', start) + 1;
  return text.slice(bodyStart, text.indexOf('\n```', bodyStart));
}

// The compose example cannot run here (it needs Docker), so its parts are checked instead:
// the command line the kapibara service runs must serve the host name the app service
// calls it by, and the health check must use that name too (a check through 127.0.0.1
// passes while every call from the app gets 421).
it('the docker-compose example in docs/testing.md serves the host name its app and health check use', async () => {
  const compose = fencedBlock('docs/testing.md', 'yaml no-run: a compose file');
  const command = /^ {4}command: (.+)$/m.exec(compose)?.[1];
  assert.ok(command, 'the kapibara service has no command');
  const words = command.replace(/\$\{KAPIBARA_OPERATOR_TOKEN\}/g, 'compose-token').split(/\s+/);
  assert.deepEqual(words.slice(0, 3), ['npx', 'kapibara', 'start']);
  const { config } = parseServerConfig([...words.slice(3), '--data', ':memory:'], {});
  const kakaoHost = /KAKAO_HOST: (\S+)/.exec(compose)?.[1];
  assert.ok(kakaoHost, 'the app service has no KAKAO_HOST');
  const appHost = new URL(kakaoHost).host;
  const healthUrl = /fetch\('([^']+)'\)/.exec(compose)?.[1];
  assert.ok(healthUrl, 'the health check fetches no URL');
  assert.equal(new URL(healthUrl).host, appHost, 'the health check reaches Kapibara by another name than the app does');
  assert.equal(new URL(healthUrl).port || '80', String(config.port));
  const app = await buildApp({ sqlitePath: config.sqlitePath, publicUrl: config.publicUrl, operatorToken: config.operatorToken, ...config.security });
  try {
    const health = await app.inject({ method: 'GET', url: new URL(healthUrl).pathname, headers: { host: appHost } });
    assert.equal(health.statusCode, 200, health.body);
    const me = await app.inject({ method: 'GET', url: '/v2/user/me', headers: { host: appHost, authorization: 'Bearer not-a-token' } });
    assert.equal(me.statusCode, 401, me.body);
    assert.equal(me.json().code, -401);
  } finally {
    await app.close();
  }
});

// The certificate's names are listed in three places a developer reads before trusting it.
it('README, connecting-an-app.md and start --help name every name the TLS certificate holds', async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const connecting = readFileSync(join(DOCS, 'connecting-an-app.md'), 'utf8');
  const help = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(CLI)}).then((m) => m.main(['start', '--help']))`], (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  const between = (text: string, from: string, to: string) => {
    const start = text.indexOf(from);
    assert.ok(start >= 0, `"${from}" not found`);
    return text.slice(start, text.indexOf(to, start + from.length));
  };
  const places = {
    'README.md (TLS)': between(readme, '- **TLS.**', '\n\n'),
    'connecting-an-app.md (Host mapping + TLS)': between(connecting, 'self-signed\ncertificate for', '\n\n'),
    'connecting-an-app.md (hosts file)': between(connecting, '# /etc/hosts', '\n```'),
    'start --help (--tls-port)': between(help, '--tls-port N', '--allowed-host'),
  };
  for (const [place, text] of Object.entries(places)) {
    const names = place.includes('hosts file') ? TLS_HOST_NAMES.filter((n) => n.endsWith('.kakao.com')) : [...TLS_HOST_NAMES, ...TLS_IPS];
    for (const name of names) assert.ok(text.replace(/\s+/g, ' ').includes(name), `${place} does not name ${name}:\n${text}`);
  }
});

/** What `kapibara <args>` prints. */
function cliOutput(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(CLI)}).then((m) => m.main(process.argv.slice(1)))`, '--', ...args], (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
}

// Every flag (short forms too) and environment variable the CLI reads is documented: in the
// help, and the environment variables in the README's list.
it('every flag and environment variable the CLI reads is in --help and the README', async () => {
  const source = ['src/config.ts', 'src/cli.ts'].map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
  const help = (await Promise.all([['--help'], ...['start', 'exec', 'seed', 'import', 'export', 'reset', 'tls-cert'].map((c) => [c, '--help'])].map(cliOutput))).join('\n');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const options = /options: \{([\s\S]*?)\n {4}\},/.exec(source)?.[1];
  assert.ok(options, 'parseServerConfig options not found');
  const flags = [...options.matchAll(/^ {6}'?([\w-]+)'?: \{ type: '\w+'(?:, short: '(\w)')?/gm)];
  assert.ok(flags.length > 10, `only ${flags.length} flags read from src/config.ts`);
  for (const [, name, short] of flags) {
    assert.match(help, new RegExp(`--${name}\\b`), `--${name} is not in any --help`);
    if (short) {
      assert.match(help, new RegExp(`(^|[\\s,])-${short}[\\s,]`, 'm'), `-${short} is not in --help`);
      assert.match(readme, new RegExp(`-${short}\\b`), `-${short} is not in the README`);
    }
  }
  const read = new Set([...source.matchAll(/\benv\.([A-Z][A-Z0-9_]+)\b(?!\s*=[^=])/g)].map((m) => m[1]));
  assert.ok(read.has('PORT') && read.has('LOG_LEVEL'), [...read].join(', '));
  for (const name of read) assert.match(readme, new RegExp(`\`${name}[\`=]`), `${name} is not in the README`);
});

// A command or path the docs name must exist (README named test/user.test.ts, which does not).
it('every test/ and src/ file the README and docs name exists', () => {
  const files = [join(ROOT, 'README.md'), ...readdirSync(DOCS).filter((f) => f.endsWith('.md')).map((f) => join(DOCS, f))];
  const missing: string[] = [];
  for (const file of files) {
    // Not the files of an example's own project (```ts file=test/…), which test/package.test.ts writes.
    for (const m of readFileSync(file, 'utf8').matchAll(/(?<!file=)\b((?:test|src)\/[\w./-]*\w\.(?:ts|js|mjs|json))\b/g)) {
      // src/x.js is what src/x.ts compiles to (an import in an example names it).
      const path = m[1];
      if (!existsSync(join(ROOT, path)) && !existsSync(join(ROOT, path.replace(/\.js$/, '.ts')))) missing.push(`${file.slice(ROOT.length + 1)}: ${path}`);
    }
  }
  assert.deepEqual(missing, []);
});

it("the README's count of PostgreSQL connections per instance is the pool's and the listener's", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.match(readme, new RegExp(`opens at most ${POOL_SIZE + 1} connections to\\s+PostgreSQL \\(${POOL_SIZE} for calls, 1 to listen\\)`));
});
