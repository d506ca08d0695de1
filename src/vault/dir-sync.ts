/**
 * Group commit for one directory's fsync. Every tip's commit renames its draft into tips/ and must
 * not be acknowledged until that rename is durable, which takes an fsync of tips/. Sixteen tips
 * committing within the same few milliseconds need not pay sixteen fsyncs of the same directory:
 * one fsync that *starts after* a caller's rename covers that rename (and every other change made
 * to the directory before it started).
 *
 * So: a caller whose change is done calls sync(). If no fsync is running, one starts now. If one is
 * running, it may have started before the caller's change, so it does not count: the caller waits
 * for the next one, which starts as soon as the running one ends and is shared by everyone who
 * arrived meanwhile. Each caller's promise settles only after an fsync that began after its call
 * returned success (or failed: then every caller sharing it gets the error).
 */
import { closeSync, fsync, openSync } from 'node:fs';
import { promisify } from 'node:util';

const fsyncFd = promisify(fsync);

/** Only the fsync leaves the event loop: opening and closing take microseconds (fs-vault.ts). */
export async function fsyncPath(path: string): Promise<void> {
  const fd = openSync(path, 'r');
  try { await fsyncFd(fd); } finally { closeSync(fd); }
}

export class DirSync {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  /** fsyncs actually issued, for tests and benchmarks. */
  syncs = 0;

  constructor(readonly path: string, private readonly fsync: (path: string) => Promise<void> = fsyncPath) {}

  sync(): Promise<void> {
    if (!this.running) return this.start();
    // One is in flight and may predate the caller's change: share the one after it.
    this.next ??= this.running.then(
      () => this.start(),
      () => this.start(),
    );
    return this.next;
  }

  private start(): Promise<void> {
    this.next = undefined;
    this.syncs++;
    const p = this.fsync(this.path);
    this.running = p;
    const clear = () => { if (this.running === p) this.running = undefined; };
    p.then(clear, clear);
    return p;
  }
}
