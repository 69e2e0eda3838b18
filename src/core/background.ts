/**
 * Work a request starts and does not wait for (a sharing webhook call): it goes on after the
 * answer, and when the server closes it is told to stop (its signal aborts) and awaited before
 * the store closes, so that nothing runs after close and what it records is kept.
 */
export class BackgroundWork {
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  /** Runs `work` without waiting for it; a failure goes to `onError`. Nothing starts once closing. */
  start(work: (closing: AbortSignal) => Promise<unknown>, onError: (err: unknown) => void): void {
    if (this.stopping.signal.aborted) return;
    const done: Promise<void> = work(this.stopping.signal)
      .then(() => undefined, onError)
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  /** Tells the work under way to stop, and waits for it. */
  async close(): Promise<void> {
    this.stopping.abort();
    while (this.running.size) await Promise.all(this.running);
  }
}

/**
 * A signal that aborts when any of `signals` does (AbortSignal.any, which Node 20.0–20.2 lack),
 * and `done()`, which takes its listeners off `signals` once the work is over: a signal shared
 * by all work (the server closing) would otherwise gather one per call made in the last seconds.
 */
export function eitherSignal(...signals: AbortSignal[]): { signal: AbortSignal; done: () => void } {
  const either = new AbortController();
  const listening = new AbortController();
  for (const s of signals) {
    if (s.aborted) {
      either.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => either.abort(s.reason), { once: true, signal: listening.signal });
  }
  return { signal: either.signal, done: () => listening.abort() };
}
