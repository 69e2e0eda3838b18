/** Waits (without a time assertion) until `check` gives a value; fails after about ten seconds. */
export async function eventually<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await check();
    if (value !== undefined) return value;
    if (i > 500) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 20));
  }
}
