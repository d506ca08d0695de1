/**
 * Global budgets: tips per minute, per lane, for the whole service, never per client. Over Tor every
 * client has the same address, and we must not keep addresses anyway, so the only fair limits are
 * ones that know nothing about who is sending.
 */
export class MinuteBudget {
  private window = 0;
  private used = 0;

  constructor(readonly perMinute: number, private readonly now: () => number = Date.now) {}

  private roll(): void {
    const w = Math.floor(this.now() / 60_000);
    if (w !== this.window) {
      this.window = w;
      this.used = 0;
    }
  }

  /** Takes one unit if any is left this minute. */
  take(): boolean {
    this.roll();
    if (this.used >= this.perMinute) return false;
    this.used++;
    return true;
  }

  /** How full this minute is, 0..1: drives the difficulty of the challenges. */
  load(): number {
    this.roll();
    return Math.min(1, this.used / Math.max(1, this.perMinute));
  }

  secondsToNextWindow(): number {
    return Math.max(1, Math.ceil((60_000 - (this.now() % 60_000)) / 1000));
  }
}

/** Bytes being uploaded right now, across all tips: bounds RAM-backed scratch and bandwidth. */
export class BytesInFlight {
  private current = 0;

  constructor(readonly max: number) {}

  /** Reserves `bytes`; returns a release function, or undefined when over the budget. */
  reserve(bytes: number): (() => void) | undefined {
    if (this.current + bytes > this.max) return undefined;
    this.current += bytes;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.current -= bytes;
      }
    };
  }

  get inFlight(): number {
    return this.current;
  }
}
