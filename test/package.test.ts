import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Kapibara as an app's project meets it: `npm pack` of this build, installed from the
 * tarball into a throwaway project next to vitest and jest (from the npm registry), whose
 * tests use `kapibara/testing`, and whose TypeScript is checked against the shipped .d.ts.
 * An installation that fails fails this test, loudly: it is never skipped.
 */

const ROOT = process.cwd();
// This very build (tests may be compiled to another folder than dist/).
const BUILT = fileURLToPath(new URL('../src', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const VITEST = '3.2.4';
const JEST = '29.7.0';

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeout = 600_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...env }, timeout, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve((stdout + stderr).replace(/\x1b\[[0-9;]*m/g, ''));
    });
  });
}

/** The test files docs/testing.md shows (```ts file=<path> blocks): run as written. */
function documentedTestFiles(): { path: string; code: string }[] {
  const doc = readFileSync(join(ROOT, 'docs/testing.md'), 'utf8');
  return [...doc.matchAll(/^```\w+ file=(\S+)\n([\s\S]*?)^```$/gm)].map((m) => ({ path: m[1], code: m[2] }));
}

const TYPED = `import { startKapibara, connectKapibara, KapibaraError, type RunningKapibara, type Tokens, type App, type GroupChat, type Story, type Channel, type PushToken, type MessageQuotas, type SharingWebhookCall, type TalkProfile, type ShippingAddress } from 'kapibara/testing';
import { buildApp } from 'kapibara';

export async function typed(): Promise<void> {
  const k: RunningKapibara = await startKapibara({ demo: false, inspector: { capacity: 10 } });
  const app: App = await k.control.apps.create({ name: 'typed', redirect_uris: ['http://localhost/cb'] });
  const tokens: Tokens = await k.control.tokens(app.id, 1, { scopes: ['openid'] });
  const idToken: string | undefined = tokens.id_token;
  // @ts-expect-error an app id is a number
  await k.control.apps.create({ id: 'seven' });
  // @ts-expect-error no such client group
  k.control.frobnicate;
  const list = await connectKapibara(k.url).requests.list({ app: app.id, status: '4xx' });
  const status: number = list.requests[0].status;
  const chat: GroupChat = await k.control.groupChats.create({ title: 'typed', member_account_ids: [1, 2] });
  const stories: Story[] = await k.control.stories.list(1, { after: 'AAAAAAA.AAAAAAAAAAA' });
  const appId: number | null = stories[0].app_id;
  // @ts-expect-error a mood Kakao Story does not have
  await k.control.stories.moods.set(stories[0].id, 2, 'ANGRY');
  const channel: Channel = await k.control.channels.create({ app_id: app.id, name: 'typed', search_id: '@typed' });
  // @ts-expect-error a channel needs its search id
  await k.control.channels.create({ app_id: app.id, name: 'typed' });
  const relation: 'ADDED' | 'BLOCKED' | 'NONE' = (await k.control.channels.relations.get(channel.public_id, 1)).relation;
  const devices: PushToken[] = await k.control.push.tokens(app.id, { after_uuid: '1', after_device_id: 'phone' });
  const expiresAt: string | null = devices[0].expires_at;
  const quotas: MessageQuotas = await k.control.messageQuotas.set(app.id, { sender_daily: 3, pair_daily: null });
  // @ts-expect-error a webhook is called with GET or POST
  await k.control.sharingWebhook.set(app.id, { url: 'http://localhost/hook', method: 'PUT' });
  const calls: SharingWebhookCall[] = (await k.control.sharingWebhook.calls(app.id, { limit: 5 })).calls;
  const profile: TalkProfile = await k.control.talk.profiles.create(1, { nickname: 'typed', shown_to: [2] });
  const blocked: boolean = (await k.control.talk.settings.update(1, { country_iso: null })).messages_blocked;
  const address: ShippingAddress = await k.control.shippingAddresses.add(1, { name: 'Home', base_address: 'Seoul' });
  const addresses: ShippingAddress[] = await k.control.shippingAddresses.list(1);
  await k.control.shippingAddresses.delete(1, address.id);
  const removed: Record<string, number> = (await k.control.sweepExpired()).removed;
  void [idToken, status, chat, appId, relation, expiresAt, quotas, calls, profile, blocked, address, addresses, removed, KapibaraError, buildApp];
  await k.stop();
}
`;

it('installs from the packed tarball and runs an app’s tests with vitest and with jest, typed', { timeout: 1_200_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'kapibara-package-'));
  try {
    // The package as `npm pack` makes it, from this build (dist/src) and the package files.
    const stage = join(work, 'stage');
    mkdirSync(join(stage, 'dist'), { recursive: true });
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    cpSync(BUILT, join(stage, 'dist/src'), { recursive: true });
    // The browser SDK's bundles and the start bundle bin/kapibara.js runs, from this build too.
    for (const f of ['sdk', 'start']) cpSync(join(BUILT, '..', f), join(stage, 'dist', f), { recursive: true });
    for (const f of ['bin', 'docs', 'README.md']) cpSync(join(ROOT, f), join(stage, f), { recursive: true });
    writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2));
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], stage);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, `npm pack made no tarball in ${work}`);

    const project = join(work, 'app');
    mkdirSync(join(project, 'test'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'an-app', version: '1.0.0', private: true, type: 'module' }, null, 2));
    // Install scripts are off: better-sqlite3 would fetch its prebuilt binary from GitHub
    // (offline here) and otherwise compile SQLite for minutes; the binary of the very same
    // version already built for this machine is put in its place below.
    await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', join(work, tarball!), `vitest@${VITEST}`, `jest@${JEST}`], project);
    const ours = join(ROOT, 'node_modules/better-sqlite3');
    const theirs = join(project, 'node_modules/better-sqlite3');
    assert.equal(JSON.parse(readFileSync(join(theirs, 'package.json'), 'utf8')).version, JSON.parse(readFileSync(join(ours, 'package.json'), 'utf8')).version);
    mkdirSync(join(theirs, 'build/Release'), { recursive: true });
    copyFileSync(join(ours, 'build/Release/better_sqlite3.node'), join(theirs, 'build/Release/better_sqlite3.node'));

    const installed = join(project, 'node_modules/kapibara');
    assert.ok(existsSync(join(installed, 'dist/src/testing.d.ts')), 'the .d.ts files are shipped');
    assert.ok(existsSync(join(installed, 'dist/sdk/kakao.js')), 'the browser SDK is shipped');
    assert.ok(existsSync(join(installed, 'dist/start/cli.cjs')) && existsSync(join(installed, 'dist/start/cli.cjs.cache')), 'the start bundle and its code cache are shipped');
    assert.ok(!existsSync(join(installed, 'test')), 'tests are not shipped');
    assert.ok(!existsSync(join(installed, 'src')), 'TypeScript sources are not shipped');

    const files = documentedTestFiles();
    assert.deepEqual(files.map((f) => f.path), ['test/kakao.vitest.test.ts', 'test/kakao-products.vitest.test.ts', 'jest.config.mjs', 'test/kakao.jest.test.mjs']);
    for (const f of files) writeFileSync(join(project, f.path), f.code);
    const vitest = await run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/kakao.vitest.test.ts', 'test/kakao-products.vitest.test.ts'], project, { CI: '1', NO_COLOR: '1' });
    assert.match(vitest, /Test Files {2}2 passed \(2\)/, vitest);
    assert.match(vitest, /Tests {2}7 passed \(7\)/, vitest);
    const jest = await run(process.execPath, ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--ci', 'test/kakao.jest.test.mjs'], project);
    assert.match(jest, /Tests: {7}1 passed, 1 total/, jest);

    // The shipped declarations type an app's code: wrong uses are errors (@ts-expect-error).
    writeFileSync(join(project, 'typed.ts'), TYPED);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true }, files: ['typed.ts'] }),
    );
    await run(process.execPath, [TSC, '-p', 'tsconfig.json'], project);
    // …and the command is installed too.
    const version = await run(join(project, 'node_modules/.bin/kapibara'), ['--version'], project);
    assert.equal(version, `kapibara ${manifest.version}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
