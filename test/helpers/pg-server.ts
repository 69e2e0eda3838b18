import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/core/free-port.js';

/**
 * A throwaway PostgreSQL server for tests: initdb into a temporary folder (owned by the
 * `postgres` user when we are root, since PostgreSQL refuses to run as root), listening on
 * loopback at a free port, with durability turned off for speed.
 */
export interface PgServer {
  url: string;
  stop(): Promise<void>;
  /**
   * For a server that only this process uses: it no longer keeps the process alive, and it
   * is stopped (and its folder removed) as the process exits.
   */
  stopOnExit(): void;
}

function binDir(): string {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    // Debian's pg_config may be the client one; the server binaries live here.
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  }
  throw new Error('PostgreSQL server binaries (initdb, postgres) not found: install postgresql or set DATABASE_URL');
}

export async function startPgServer(): Promise<PgServer> {
  let bin = binDir();
  if (!existsSync(join(bin, 'initdb'))) bin = join('/usr/lib/postgresql', readdirSync('/usr/lib/postgresql')[0], 'bin');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'kapibara-pg-'));
  chmodSync(dir, 0o777);
  const dataDir = join(dir, 'data');
  const run = (cmd: string, args: string[]) =>
    asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' }) : execFileSync(cmd, args, { stdio: 'pipe' });
  run(join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  // No autovacuum: the query plans the tests ask for (helpers/query-plans.ts) are then made from
  // statistics that do not depend on when it last visited a table. In a whole run it analyzed
  // talk_messages at some moment, and the planner, taking the table for nearly empty, read all
  // of an index instead of searching the primary key (a plan check failed once in a run).
  const args = [
    '-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300',
    '-c', 'autovacuum=off',
  ];
  const child: ChildProcess = asRoot
    ? spawn('runuser', ['-u', 'postgres', '--', join(bin, 'postgres'), ...args], { stdio: 'ignore' })
    : spawn(join(bin, 'postgres'), args, { stdio: 'ignore' });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      execFileSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)], { stdio: 'pipe' });
      break;
    } catch {
      if (child.exitCode !== null) throw new Error(`PostgreSQL exited with code ${child.exitCode} during start`);
      if (Date.now() > deadline) throw new Error('PostgreSQL did not become ready within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const stopNow = () => {
    if (child.exitCode === null) run(join(bin, 'pg_ctl'), ['-D', dataDir, 'stop', '-m', 'immediate']);
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    url,
    stopOnExit() {
      child.unref();
      process.once('exit', stopNow);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        // runuser does not pass signals on, so ask pg_ctl (as the server's owner) to stop it.
        run(join(bin, 'pg_ctl'), ['-D', dataDir, 'stop', '-m', 'immediate']);
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
