/**
 * Everything Kapibara keeps in memory about one store (caches of values derived from it,
 * the log writers, compiled statement texts), owned by the store rather than by modules,
 * so that reset, import and tests can clear it and two stores never share an entry.
 *
 *   const PAGES = registryKey('talk: friends pages', (store) => new KeptAnswers(store));
 *   store.registry.get(PAGES).serve(…)
 */
export interface RegistryKey<T> {
  readonly name: string;
  create(store: import('./index.js').Store): T;
  /** Kept across `clear()`: state that is not derived from the database (a writer's queue). */
  readonly durable?: boolean;
}

export function registryKey<T>(name: string, create: RegistryKey<T>['create'], options: { durable?: boolean } = {}): RegistryKey<T> {
  return { name, create, durable: options.durable };
}

export class StoreRegistry {
  private readonly entries = new Map<RegistryKey<unknown>, unknown>();
  private owner?: import('./index.js').Store;

  /** Set once by the store that owns this registry. */
  bind(store: import('./index.js').Store): void {
    this.owner = store;
  }

  get<T>(key: RegistryKey<T>): T {
    let value = this.entries.get(key as RegistryKey<unknown>) as T | undefined;
    if (value === undefined) {
      if (!this.owner) throw new Error('store registry used before its store was opened');
      value = key.create(this.owner);
      this.entries.set(key as RegistryKey<unknown>, value);
    }
    return value;
  }

  /** Drops every cache (durable entries stay); the next `get` builds them afresh. */
  clear(): void {
    for (const key of [...this.entries.keys()]) if (!key.durable) this.entries.delete(key);
  }

  /** Names of what is held now (for tests and diagnostics). */
  names(): string[] {
    return [...this.entries.keys()].map((k) => k.name);
  }
}
