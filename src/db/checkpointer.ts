import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Moves SQLite's WAL checkpoints off the event loop. With `synchronous = NORMAL`, SQLite
 * copies the WAL into the database and syncs both files at every automatic checkpoint, on
 * the connection that happened to commit: half the cost of storing a message (a 22-row
 * batch: 10.8 µs a row with automatic checkpoints, 5.0 without). A worker thread with its
 * own connection runs passive checkpoints instead (they never block a writer, and the
 * writer never waits for the sync), as SQLite's documentation suggests. The main
 * connection keeps a far larger automatic checkpoint as a backstop, so the WAL stays
 * bounded if the worker falls behind.
 */

/** WAL pages (4 KiB) before the writing connection checkpoints itself after all (~64 MiB). */
export const BACKSTOP_PAGES = 16_384;
/** How often the worker checkpoints, in ms. */
const INTERVAL_MS = 200;

// The worker is a few lines of CommonJS run from source (eval), so that it needs no file
// of its own beside the bundle; better-sqlite3 is located from here and handed over.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try { checkpoint.run(); } catch { /* busy or closing: the next turn retries */ }
}, workerData.interval);
parentPort.on('message', () => { clearInterval(timer); try { checkpoint.run(); } catch {} db.close(); parentPort.close(); });
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/** Starts checkpointing the WAL of the database file at `path` in a worker thread. */
export function startCheckpointer(path: string): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, path, interval: INTERVAL_MS } });
  // A checkpointer that cannot run leaves the backstop to do its work: never fatal.
  worker.on('error', () => {});
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      // Held while it finishes its last checkpoint and closes (unref'd, it would not be waited for).
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
