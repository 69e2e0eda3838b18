import { describe, it, after } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshPgDatabase, storeKinds } from './helpers/stores.js';

// The command of this very build, as bin/kapibara.js runs it (exit codes included).
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const RUN = `import(${JSON.stringify(CLI)}).then((m) => m.main(process.argv.slice(1))).catch((e) => { console.error(e.message); process.exit(e.exitCode ?? 1); })`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function kapibara(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', RUN, '--', ...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const COMMANDS = ['start', 'exec', 'seed', 'import', 'export', 'reset', 'tls-cert'];

describe('kapibara exec', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'kapibara-exec-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('passes status 0 through, with KAPIBARA_URL and the demo keys in the command’s environment', async () => {
    const script = `const r = await fetch(process.env.KAPIBARA_URL + '/_kapibara/health'); const me = await fetch(process.env.KAPIBARA_URL + '/v2/user/me');
console.log(r.status, (await r.json()).status, me.status, process.env.KAPIBARA_APP_ID, process.env.KAPIBARA_REST_API_KEY, process.env.KAPIBARA_ADMIN_KEY);`;
    const r = await kapibara(['exec', '--', process.execPath, '--input-type=module', '-e', script]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '200 ok 401 1000001 kapibarademorestapikey000000000a kapibarademoadminkey000000000000d\n');
  });

  it('passes a non-zero status through, and the status of a command killed by a signal as 128+n', async () => {
    assert.equal((await kapibara(['exec', '--', process.execPath, '-e', 'process.exit(7)'])).code, 7);
    assert.equal((await kapibara(['exec', '--', process.execPath, '-e', 'process.kill(process.pid, "SIGTERM")'])).code, 128 + 15);
    const missing = await kapibara(['exec', '--', 'kapibara-no-such-command']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'kapibara exec: cannot run "kapibara-no-such-command": command not found\n');
  });

  it('starts from --import state and writes --export-on-exit when the command ends, failing or not', async () => {
    const dir = tmp();
    const state = join(dir, 'state.json');
    const out = join(dir, 'out.json');
    writeFileSync(state, JSON.stringify({ version: 1, apps: [{ id: 7, name: 'Seeded' }], accounts: [{ id: 70, email: 'a@example.com', nickname: 'A' }] }));
    const script = `const u = process.env.KAPIBARA_URL; const apps = await (await fetch(u + '/_kapibara/v1/apps')).json();
await fetch(u + '/_kapibara/v1/accounts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 71, email: 'b@example.com' }) });
console.log(apps.map((a) => a.name).join(), process.env.KAPIBARA_APP_ID ?? 'no demo'); process.exit(4);`;
    const r = await kapibara(['exec', '--import', state, '--export-on-exit', out, '--', process.execPath, '--input-type=module', '-e', script]);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'Seeded no demo\n');
    const exported = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual(exported.apps.map((a: { id: number }) => a.id), [7]);
    assert.deepEqual(exported.accounts.map((a: { id: number }) => a.id), [70, 71]);
  });

  it('refuses an invalid --import file before starting, naming the file, the row and the field', async () => {
    const dir = tmp();
    const state = join(dir, 'bad.json');
    writeFileSync(state, JSON.stringify({ apps: [{ id: 'x' }] }));
    const r = await kapibara(['exec', '--import', state, '--', process.execPath, '-e', 'console.log("ran")']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `${state}: apps[0].id: expected an integer, got "x"\n`);
  });

  it('needs a command after --', async () => {
    const r = await kapibara(['exec']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'kapibara exec: no command given (kapibara exec [options] -- <command> [args…])\n');
  });
});

describe('the kapibara command line', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'kapibara-cli2-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('prints --help for every command, and --version', async () => {
    for (const command of COMMANDS) {
      const r = await kapibara([command, '--help']);
      assert.equal(r.code, 0, `${command}: ${r.stderr}`);
      assert.ok(r.stdout.startsWith(`usage: kapibara ${command}`), `${command} --help: ${r.stdout.slice(0, 80)}`);
      assert.match(r.stdout, /--data DIR/);
    }
    const general = await kapibara(['--help']);
    for (const command of COMMANDS) assert.match(general.stdout, new RegExp(`^  ${command}\\b`, 'm'));
    const version = await kapibara(['--version']);
    assert.equal(version.stdout, `kapibara ${JSON.parse(readFileSync('package.json', 'utf8')).version}\n`);
  });

  it('refuses unknown flags and bad values with one line naming the flag', async () => {
    const TOKEN_RULE = 'expected ASCII letters, digits and punctuation other than " , ; \\ (no spaces): the console keeps the token in a cookie';
    const dir = tmp();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const cases: [string[], string][] = [
      [['start', '--bogus'], 'kapibara start: unknown option --bogus (--help lists the options)'],
      [['start', '--public-url', 'notaurl'], 'kapibara start: invalid --public-url "notaurl": expected an http(s) URL such as https://kapibara.example.com'],
      [['export', '--database-url', 'mysql://root:pw@db/kapibara'], 'kapibara export: invalid --database-url "mysql://root:***@db/kapibara": only PostgreSQL is supported (postgres://user:password@host:5432/db); without it the store is SQLite in --data'],
      [['reset', '--data', file], `kapibara reset: invalid --data "${file}": it is a file; --data names a folder (or :memory:)`],
      [['start', '--port', 'eighty'], 'kapibara start: invalid --port "eighty": expected a port number from 0 to 65535'],
      [['start', '--port'], 'kapibara start: --port needs a value'],
      [['start', '--port', '0', '--operator-token', 'abc;def'], `kapibara start: invalid --operator-token: ${TOKEN_RULE}`],
      [['start', '--port', '0', '--operator-token', 'two words'], `kapibara start: invalid --operator-token: ${TOKEN_RULE}`],
      [['seed', '--port', '1', 'x.json'], 'kapibara seed: --port is not an option of this command (kapibara seed --help)'],
      [['seed'], 'kapibara seed: a JSON file is required (kapibara seed <file>)'],
      [['frobnicate'], 'unknown command "frobnicate" (kapibara --help lists them)'],
    ];
    for (const [args, message] of cases) {
      const r = await kapibara(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, `${message}\n`, args.join(' '));
    }
    const korean = await kapibara(['start', '--port', '0'], { KAPIBARA_OPERATOR_TOKEN: '비밀 토큰' });
    assert.equal(korean.code, 2, korean.stderr);
    assert.equal(korean.stderr, `kapibara start: invalid KAPIBARA_OPERATOR_TOKEN: ${TOKEN_RULE}\n`);
    const env = await kapibara(['export'], { DATABASE_URL: 'mysql://db/x' });
    assert.equal(env.stderr, 'kapibara export: invalid DATABASE_URL "mysql://db/x": only PostgreSQL is supported (postgres://user:password@host:5432/db); without it the store is SQLite in --data\n');
  });

  for (const kind of storeKinds()) {
    it(`seeds 20,000 people showing progress, and refuses a bad file naming row and field, writing nothing [${kind}]`, async () => {
      const dir = tmp();
      const pg = kind === 'postgres' ? await freshPgDatabase() : undefined;
      const storeArgs = pg ? ['--database-url', pg.url] : ['--data', dir];
      try {
        const people = Array.from({ length: 20_000 }, (_, i) => ({ id: 10_000 + i, email: `p${i}@example.com`, nickname: `P${i}` }));
        const file = join(dir, 'people.json');
        writeFileSync(file, JSON.stringify({ version: 1, accounts: people }));
        const r = await kapibara(['seed', file, ...storeArgs]);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 10, r.stderr);
        lines.forEach((line, i) => assert.match(line, new RegExp(`^seeding ${(i + 1) * 2000}/20000 rows \\(\\d+ rows/s\\)$`)));
        assert.match(r.stdout, /"accounts":20000/);

        const bad = join(dir, 'bad.json');
        const cases: [unknown, string][] = [
          [{ apps: [{ id: 'one', name: 'x' }] }, 'apps[0].id: expected an integer, got "one"'],
          [{ accounts: [{ email: 'ok@example.com' }, { email: 'x@example.com', colour: 'red' }] }, 'accounts[1].colour: unknown field (accounts has: '],
          [{ apps: [], frogs: [] }, 'unknown table "frogs" (the state format has: settings, apps, '],
          [{ accounts: [{ id: 10_000, email: 'dup@example.com' }] }, 'accounts[0]: duplicate id 10000: another accounts row (in this document or already stored) has the same'],
          [{ accounts: [{ email: 'p1@example.com' }] }, 'accounts[0]: duplicate email "p1@example.com": another accounts row (in this document or already stored) has the same'],
          [{ accounts: [{ id: 5, email: 'z@example.com', password: 'x', nickname: 'Z', created_at: 1 }] }, 'accounts[0].is_leap_month: required'],
          [{ friendships: [{ account_id: 10_000, friend_account_id: 'b' }] }, 'friendships[0].friend_account_id: expected an integer, got "b"'],
          [[1, 2], 'expected a JSON object, got an array'],
        ];
        for (const [doc, message] of cases) {
          writeFileSync(bad, JSON.stringify(doc));
          const res = await kapibara(['seed', bad, ...storeArgs]);
          assert.equal(res.code, 2, res.stderr);
          assert.ok(res.stderr.startsWith(`${bad}: ${message}`), `${JSON.stringify(doc)}\n  got: ${res.stderr}\n  want: ${bad}: ${message}`);
          assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
        }
        const exported = await kapibara(['export', ...storeArgs]);
        assert.equal(JSON.parse(exported.stdout).accounts.length, 20_000);
      } finally {
        await pg?.drop();
      }
    });
  }
});
