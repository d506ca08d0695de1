/**
 * Puts an upload down in its scratch file in batches of up to a MiB.
 *
 * Why: fs.WriteStream starts a write as soon as the last one returns, so most of an upload went
 * down in writes of a few network chunks: ~5,500 thread-pool round trips per GiB, each two
 * wake-ups, on a VM where a wake-up is dear. A 1 GiB upload took 1.48 s to arrive in scratch that
 * way and 1.1 s in MiB batches (BENCHMARKS.md, round 12). Bytes still reach the file within
 * FLUSH_MS of arriving when no more follow, for a reader waiting on them (video-early.ts waits
 * for the moov to be in scratch while it holds the frames back).
 * Memory: per upload, at most a batch being gathered, one being written and the stream's own 64 KiB.
 * The batch size is SHARED_BYTES split among the uploads open, between 256 KiB and a MiB: one to
 * four uploads get a MiB each, twenty get 256 KiB each (at most ~12 MiB for all twenty). With a MiB
 * each, twenty concurrent uploads took the intake from 202 to 287 MiB. The split counts idle
 * uploads too, so many stalled ones only bring everyone down to 256 KiB batches, which write no
 * more often than the WriteStream this replaced (review, session 10).
 * Threat: none new. The bytes are the same plaintext, held as long as before, and go to the same
 * file in RAM-backed scratch. The file is made new (`wx`, mode 0600): an existing file or a link
 * planted at its name is refused, not written through. Its descriptor is closed only once no write
 * is in flight (FileHandle.close waits), so a late write can never land in a reused descriptor.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

const MIB = 1024 * 1024;
const SHARED_BYTES = 4 * MIB;
const MAX_BATCH = MIB;
const MIN_BATCH = 256 * 1024;
/** The stream's own buffer, beyond the batches. */
const STREAM_BUFFER = 64 * 1024;
const FLUSH_MS = 5;

/** Writers open now: their batch size is SHARED_BYTES split among them. */
let writersOpen = 0;

function batchBytes(): number {
  return Math.max(MIN_BATCH, Math.min(MAX_BATCH, Math.floor(SHARED_BYTES / Math.max(1, writersOpen))));
}

type Done = (e?: Error | null) => void;

export class ScratchWriter extends Writable {
  private file: FileHandle | undefined;
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** The last write queued: writes go down one after the other, in order. */
  private writing: Promise<void> = Promise.resolve();
  /** Bytes queued or being written. */
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private counted = false;

  constructor(private readonly path: string) {
    super({ highWaterMark: STREAM_BUFFER });
  }

  override _construct(cb: Done): void {
    open(this.path, 'wx', 0o600).then((f) => {
      this.file = f;
      this.counted = true;
      writersOpen++;
      cb();
    }, cb);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: Done): void {
    this.hold(chunk);
    this.writeIfFull(cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: Done): void {
    for (const c of chunks) this.hold(c.chunk);
    this.writeIfFull(cb);
  }

  override _final(cb: Done): void {
    this.writeHeld().then(() => cb(), cb);
  }

  override _destroy(e: Error | null, cb: Done): void {
    clearTimeout(this.timer);
    if (this.counted) writersOpen--;
    this.counted = false;
    const f = this.file;
    this.file = undefined;
    this.held = [];
    this.heldBytes = 0;
    if (!f) return cb(e);
    f.close().then(() => cb(e), (closeError: Error) => cb(e ?? closeError));
  }

  private hold(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.held.push(chunk);
    this.heldBytes += chunk.length;
  }

  /**
   * A chunk is taken at once until a batch is full. A full batch is written while the next one
   * gathers: the next chunk waits only until the batch before this one is down. So an upload holds
   * at most two batches and the stream's buffer, however slow the thread pool (review, session 10:
   * writes left to a timer alone piled up without bound while the pool was busy).
   */
  private writeIfFull(cb: Done): void {
    if (this.heldBytes >= batchBytes()) {
      const before = this.writing;
      this.writeHeld().catch((e: Error) => this.destroy(e));
      before.then(() => cb());
      return;
    }
    this.armTimer();
    cb();
  }

  /** What is held goes down after FLUSH_MS without more, once no write is in flight. */
  private armTimer(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.heldBytes === 0) return;
      if (this.pendingBytes > 0) return this.armTimer();
      this.writeHeld().catch((e: Error) => this.destroy(e));
    }, FLUSH_MS);
  }

  private writeHeld(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const [bufs, bytes] = [this.held, this.heldBytes];
    this.held = [];
    this.heldBytes = 0;
    this.pendingBytes += bytes;
    const done = this.writing.then(() => this.writeAll(bufs)).finally(() => { this.pendingBytes -= bytes; });
    this.writing = done.catch(() => {});
    return done;
  }

  private async writeAll(bufs: Buffer[]): Promise<void> {
    // A regular file takes a writev whole unless it hits a limit (space, RLIMIT_FSIZE); the write
    // of what is left then reports that limit's error.
    while (bufs.length > 0) {
      const f = this.file;
      if (!f) throw new Error('scratch file closed');
      let { bytesWritten: n } = await f.writev(bufs);
      if (n === 0) throw new Error('scratch file took no bytes');
      const rest: Buffer[] = [];
      for (const b of bufs) {
        if (n >= b.length) n -= b.length;
        else {
          rest.push(n > 0 ? b.subarray(n) : b);
          n = 0;
        }
      }
      bufs = rest;
    }
  }
}
