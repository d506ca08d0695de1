/**
 * A fixed number of turns at a CPU-heavy step (cleaning, sealing). Twenty uploads arriving at once
 * must not start twenty ffmpegs or twenty seals on two cores: memory stacks up and a note-only tip
 * waits behind all of them. Waiters are served in arrival order.
 */
export class Slots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {}

  async acquire(): Promise<() => void> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The turn passes straight to the next waiter, so a newcomer cannot jump the queue.
      if (next) next();
      else this.running--;
    };
  }
}
