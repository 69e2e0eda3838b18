import { describe, it, after } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freshPgDatabase, storeKinds } from './helpers/stores.js';
import { freePort } from '../src/core/free-port.js';
import Database from 'better-sqlite3';

// The CLI of this very build (tests may be compiled to another folder than dist/).
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const runOf = (cli: string) => `import(${JSON.stringify(cli)}).then((m) => m.main(process.argv.slice(1))).catch((e) => { console.error(e.message); process.exit(1); })`;
const RUN = runOf(CLI);
// The start bundle of this build (scripts/build-start.js), run as bin/kapibara.js runs it.
const START_LOADER = fileURLToPath(new URL('../src/start-bundle.js', import.meta.url));
const RUN_BUNDLE = `import(${JSON.stringify(START_LOADER)}).then((m) => m.loadStartBundle().main(process.argv.slice(1))).catch((e) => { console.error(e.message); process.exit(1); })`;

function kapibara(args: string[], env: NodeJS.ProcessEnv = {}, run = RUN): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', run, '--', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

const execFileAsync = promisify(execFile);
async function kapibaraOnce(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', RUN, '--', ...args]);
  return stdout;
}

/** Starts the server and waits for its banner; returns the banner and the origin. */
async function start(args: string[], env: NodeJS.ProcessEnv = {}, run = RUN): Promise<{ child: ChildProcess; banner: string; origin: string }> {
  const child = kapibara(['start', '--port', '0', ...args], env, run);
  let banner = '';
  let errors = '';
  child.stderr!.on('data', (d) => (errors += d));
  const origin = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      banner += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(banner);
      if (m && banner.includes('Control plane')) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`kapibara exited with ${code}: ${errors}`)));
  });
  return { child, banner, origin };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise((r) => {
    child.once('exit', r);
    child.kill('SIGTERM');
  });
}

describe('kapibara command', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'kapibara-cli-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('starts with a SQLite store in the data folder, seeds the demo once, and prints keys and URLs', async () => {
    const data = tmp();
    const first = await start(['--data', data]);
    try {
      assert.match(first.banner, /Created the demo app and demo people/);
      assert.match(first.banner, /REST API key: +kapibarademorestapikey000000000a/);
      assert.match(first.banner, /Admin key: +\w+/);
      assert.match(first.banner, /Login URL: +http:\/\/localhost:\d+\/oauth\/authorize\?client_id=/);
      assert.match(first.banner, /Control plane: +http:\/\/localhost:\d+\/_kapibara\/v1/);
      const people = await (await fetch(`${first.origin}/_kapibara/v1/accounts`)).json();
      assert.ok(people.length >= 5);
      assert.ok(people.some((p: { talk_user: boolean }) => !p.talk_user));
      // Demo profile pictures are served by this server (stored as paths on it).
      const picture = await fetch(new URL(people[0].profile_image_url, first.origin));
      assert.equal(picture.status, 200);
      assert.equal(picture.headers.get('content-type'), 'image/png');
      const friends = await (await fetch(`${first.origin}/_kapibara/v1/accounts/1001/friends`)).json();
      assert.ok(friends.length >= 3);
      await fetch(`${first.origin}/_kapibara/v1/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'kept@example.com' }),
      });
    } finally {
      await stop(first.child);
    }
    // Restart on the same folder: the data is still there, the demo is not created again.
    const second = await start(['--data', data]);
    try {
      assert.doesNotMatch(second.banner, /Created the demo/);
      const found = await (await fetch(`${second.origin}/_kapibara/v1/accounts?email=kept@example.com`)).json();
      assert.equal(found.length, 1);
    } finally {
      await stop(second.child);
    }
  });

  for (const kind of storeKinds()) {
    it(`answers its first request only once the demo is seeded, and stops cleanly on SIGTERM from then on [${kind}]`, async () => {
      const db = kind === 'postgres' ? await freshPgDatabase() : undefined;
      try {
        await firstAnswerSeeded(db ? ['--database-url', db.url] : ['--data', tmp()]);
      } finally {
        await db?.drop();
      }
    });
  }

  async function firstAnswerSeeded(store: string[]) {
    // A test suite polls a fresh server until it answers, then uses the demo app at once.
    const port = await freePort();
    const child = kapibara(['start', '--port', String(port), ...store]);
    const login = `http://127.0.0.1:${port}/oauth/authorize?client_id=kapibarademorestapikey000000000a&redirect_uri=${encodeURIComponent('http://localhost:3000/oauth/callback')}&response_type=code`;
    try {
      let first: Response | undefined;
      for (let i = 0; i < 30_000 && !first; i++) {
        first = await fetch(login).catch(() => undefined);
        if (!first) await new Promise((r) => setImmediate(r));
      }
      assert.ok(first, 'the server answered');
      assert.equal(first.status, 200, 'the first answer already knows the demo app');
      assert.match(await first.text(), /Kapibara Demo/);
    } finally {
      // The first answer means the signal handlers are in place: SIGTERM closes the server and exits 0.
      const exited = new Promise<[number | null, string | null]>((r) => child.once('exit', (code, signal) => r([code, signal])));
      child.kill('SIGTERM');
      assert.deepEqual(await exited, [0, null]);
    }
  }

  it('the start bundle bin/kapibara.js runs serves as the modules do: version, health, the browser SDK, a login, a PNG', async () => {
    const run = RUN_BUNDLE;
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--input-type=module', '-e', run, '--', '--version'], { env: { ...process.env, KAPIBARA_DEBUG_START: '1' } });
    assert.equal(stdout, await kapibaraOnce(['--version']));
    assert.match(stdout, /^kapibara \d/);
    // The build wrote the bundle's code cache for this very Node, so V8 takes it.
    assert.match(stderr, /^kapibara: code cache accepted; loader began at \d+ ms, bundle ran at \d+ ms\n$/);
    const server = await start(['--data', tmp()], {}, run);
    try {
      const health = await (await fetch(`${server.origin}/_kapibara/health`)).json();
      assert.equal(health.status, 'ok');
      assert.equal(health.migrations.current, true);
      const sdk = await fetch(`${server.origin}/sdk/js/kakao.js`);
      assert.equal(sdk.status, 200, 'the bundle finds dist/sdk');
      assert.match(await sdk.text(), /Kakao/);
      const login = await fetch(`${server.origin}/oauth/authorize?client_id=kapibarademorestapikey000000000a&redirect_uri=${encodeURIComponent('http://localhost:3000/oauth/callback')}&response_type=code`);
      assert.equal(login.status, 200);
      assert.match(await login.text(), /Kapibara Demo/);
      const people = await (await fetch(`${server.origin}/_kapibara/v1/accounts`)).json();
      const picture = await fetch(new URL(people[0].profile_image_url, server.origin));
      assert.equal(picture.headers.get('content-type'), 'image/png');
      const token = await fetch(`${server.origin}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'kapibarademorestapikey000000000a', code: 'nope' }) });
      assert.equal(token.status, 400);
      assert.equal((await token.json()).error, 'invalid_grant');
    } finally {
      await stop(server.child);
    }
  });

  it('the start bundle serves HTTPS on --tls-port: selfsigned from node_modules, node:https loaded when used', async () => {
    const tlsPort = await freePort();
    const server = await start(['--data', tmp(), '--tls-port', String(tlsPort)], {}, RUN_BUNDLE);
    try {
      assert.match(server.banner, new RegExp(`HTTPS: +port ${tlsPort} for kauth\\.kakao\\.com`));
      const { request } = await import('node:https');
      const answer = await new Promise<{ status: number; head: string; issuer: string }>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: tlsPort, path: '/.well-known/openid-configuration', method: 'HEAD', servername: 'kauth.kakao.com', headers: { host: 'kauth.kakao.com' }, rejectUnauthorized: false },
          (res) => {
            const cert = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, head: String(res.headers['content-type']), issuer: String(cert.subject?.O) }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.deepEqual(answer, { status: 200, head: 'application/json;charset=UTF-8', issuer: 'Kapibara' });
    } finally {
      await stop(server.child);
    }
  });

  it('takes the port from PORT, and the flag over the variable', async () => {
    const data = tmp();
    // --port (0 here) wins over PORT: port 1 would fail to bind.
    const probe = await start(['--data', data, '--no-demo'], { PORT: '1' });
    const port = new URL(probe.origin).port;
    await stop(probe.child);
    const viaEnv = kapibara(['start', '--data', data, '--no-demo'], { PORT: port });
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        let out = '';
        viaEnv.stdout!.on('data', (d) => {
          out += d;
          if (out.includes('Control plane')) resolve(out);
        });
        viaEnv.once('exit', (c) => reject(new Error(`exited ${c}`)));
      });
      assert.match(banner, new RegExp(`listening on http://127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(banner, /Demo app/);
    } finally {
      await stop(viaEnv);
    }
  });

  it('--lock-wait (and KAPIBARA_LOCK_WAIT) bounds how long a call waits for a lock another connection holds; a bad value is named', async () => {
    // Another process on the same file holds the write lock for 2 s (as `kapibara import`
    // would): a call waits for it by default (5 s), and gives up, named, when told to wait 0.2 s.
    const cases = [
      { args: [], env: {}, status: 201 },
      { args: ['--lock-wait', '0.2'], env: {}, status: 503 },
      { args: [], env: { KAPIBARA_LOCK_WAIT: '0.2' }, status: 503 },
    ];
    for (const { args, env, status } of cases) {
      const data = tmp();
      const server = await start(['--data', data, '--no-demo', ...args], env);
      const other = new Database(join(data, 'kapibara.sqlite'));
      try {
        other.exec('BEGIN IMMEDIATE');
        const letGo = new Promise((resolve) => setTimeout(resolve, 2000)).then(() => other.exec('ROLLBACK'));
        const res = await fetch(`${server.origin}/_kapibara/v1/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        const body = await res.json();
        assert.equal(res.status, status, `${args.join(' ')} ${JSON.stringify(env)}: ${JSON.stringify(body)}`);
        if (status === 503) assert.match(body.error, /^Kapibara's store gave up waiting for a lock another connection to the database held \(database is locked \(SQLITE_BUSY\)\)/);
        await letGo;
      } finally {
        other.close();
        await stop(server.child);
      }
    }
    await assert.rejects(kapibaraOnce(['export', '--data', tmp(), '--lock-wait', '0']), /invalid --lock-wait "0": expected seconds, more than 0/);
  });

  it('seeds, exports, imports and resets the store from files', async () => {
    const data = tmp();
    const seedFile = join(data, 'seed.json');
    writeFileSync(
      seedFile,
      JSON.stringify({
        apps: [{ id: 42, name: 'Seeded app', redirect_uris: ['http://localhost:4000/cb'] }],
        accounts: [{ id: 7, email: 'seven@example.com', nickname: 'Seven' }],
      }),
    );
    assert.match(await kapibaraOnce(['seed', seedFile, '--data', data]), /seeded: .*"apps":1/);
    const exported = JSON.parse(await kapibaraOnce(['export', '--data', data]));
    assert.equal(exported.apps[0].name, 'Seeded app');
    assert.equal(exported.accounts[0].email, 'seven@example.com');
    const outFile = join(data, 'out.json');
    await kapibaraOnce(['export', '--data', data, '--out', outFile]);
    assert.deepEqual(JSON.parse(readFileSync(outFile, 'utf8')), exported);
    assert.match(await kapibaraOnce(['reset', '--data', data]), /all state deleted/);
    assert.equal(JSON.parse(await kapibaraOnce(['export', '--data', data])).apps.length, 0);
    await kapibaraOnce(['import', outFile, '--data', data]);
    assert.deepEqual(JSON.parse(await kapibaraOnce(['export', '--data', data])), exported);
    await assert.rejects(kapibaraOnce(['seed', join(data, 'missing.json'), '--data', data]), /cannot read/);
  });

  it('seed and import stamp what a document leaves out on the data folder’s platform clock, not on real time', async () => {
    const data = tmp();
    const year2035 = Date.UTC(2035, 0, 1);
    const clockFile = join(data, 'clock.json');
    writeFileSync(clockFile, JSON.stringify({ settings: [{ key: 'clock_offset_ms', value: String(year2035 - Date.now()) }] }));
    await kapibaraOnce(['seed', clockFile, '--data', data]);
    const seedFile = join(data, 'seed.json');
    writeFileSync(
      seedFile,
      JSON.stringify({
        apps: [{ id: 42, name: 'Seeded app', redirect_uris: ['http://localhost:4000/cb'], consent_items: { profile_nickname: 'required' } }],
        accounts: [{ id: 7, email: 'seven@example.com', nickname: 'Seven' }],
        app_users: [{ app_id: 42, account_id: 7, scopes: ['profile_nickname'] }],
      }),
    );
    await kapibaraOnce(['seed', seedFile, '--data', data]);
    const [link] = JSON.parse(await kapibaraOnce(['export', '--data', data])).app_users;
    const connected = typeof link.connected_at === 'number' ? link.connected_at : Date.parse(link.connected_at);
    assert.ok(Math.abs(connected - year2035) < 24 * 3600 * 1000, String(link.connected_at));
  });

  if (storeKinds().includes('postgres')) {
    it('runs on PostgreSQL with --database-url', async () => {
      const db = await freshPgDatabase();
      try {
        const server = await start(['--database-url', db.url]);
        try {
          assert.match(server.banner, /PostgreSQL/);
          const apps = await (await fetch(`${server.origin}/_kapibara/v1/apps`)).json();
          assert.equal(apps[0].rest_api_key, 'kapibarademorestapikey000000000a');
        } finally {
          await stop(server.child);
        }
      } finally {
        await db.drop();
      }
    });
  }

  it('generates an operator token behind a declared proxy or a public URL, though bound to loopback (a proxy on the same host forwards the network to it)', async () => {
    for (const args of [['--trust-proxy', '127.0.0.1'], ['--public-url', 'https://kapibara.example.com']]) {
      const server = await start(['--data', tmp(), ...args]);
      try {
        const token = /Operator token: (\S+)/.exec(server.banner)?.[1];
        assert.ok(token, `${args.join(' ')}: ${server.banner}`);
        assert.equal((await fetch(`${server.origin}/_kapibara/v1/apps`)).status, 401, args.join(' '));
        assert.equal((await fetch(`${server.origin}/_kapibara/v1/apps`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      } finally {
        await stop(server.child);
      }
    }
    // On loopback with neither, none (a developer's own machine).
    const plain = await start(['--data', tmp(), '--public-url', 'http://localhost:9999']);
    try {
      assert.doesNotMatch(plain.banner, /Operator token/);
      assert.equal((await fetch(`${plain.origin}/_kapibara/v1/apps`)).status, 200);
    } finally {
      await stop(plain.child);
    }
  });

  it('protects the control plane with an operator token', async () => {
    const server = await start(['--data', tmp(), '--operator-token', 's3cret']);
    try {
      assert.match(server.banner, /Operator token: s3cret/);
      assert.equal((await fetch(`${server.origin}/_kapibara/v1/apps`)).status, 401);
      const ok = await fetch(`${server.origin}/_kapibara/v1/apps`, { headers: { authorization: 'Bearer s3cret' } });
      assert.equal(ok.status, 200);
    } finally {
      await stop(server.child);
    }
  });
});
