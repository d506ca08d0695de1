/** A seeded random source for the crash test, so that a failing run can be replayed with CRASH_SEED. */

export interface Rng {
  seed: number;
  next(): number;
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number;
}

/** CRASH_SEED if set, else a fresh one; either way the caller prints it. */
export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const s = env.CRASH_SEED;
  if (s !== undefined && s !== '') {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`CRASH_SEED must be an integer in [0, 2^32): ${s}`);
    return n;
  }
  return Math.floor(Math.random() * 0xffffffff);
}

/** mulberry32: tiny, fast, and good enough to pick crash moments. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

/** A door that new tips wait at while the intake is down; open by default. */
export class Door {
  private waiting: Promise<void> = Promise.resolve();
  private release: () => void = () => {};

  close(): void {
    this.waiting = new Promise((r) => { this.release = r; });
  }

  open(): void {
    this.release();
  }

  pass(): Promise<void> {
    return this.waiting;
  }
}
