/**
 * The bytes of a stream that have arrived and are not yet passed on, as the chunks they came in:
 * read by file offset without joining them. A chunk is found by binary search, so a peek costs the
 * same whether the window holds a few 64 KiB reads or thousands of Tor-sized cells (a scan from the
 * first chunk held the event loop for seconds on a crafted frame: review, session 7), and nothing
 * is copied but a peek that straddles two chunks.
 */
const EMPTY = Buffer.alloc(0);

export class ByteWindow {
  private chunks: Buffer[] = [];
  /** File offset of each chunk's first byte. */
  private offsets: number[] = [];
  /** Index of the first chunk still held (the ones before it are passed on). */
  private first = 0;
  /** File offset of the first byte held. */
  start = 0;
  /** File offset just past the last byte held. */
  end = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.offsets.push(this.end);
    this.end += chunk.length;
  }

  get held(): number {
    return this.end - this.start;
  }

  /** Bytes [at, at + n), which must be held: a view when they lie in one chunk, else a copy. */
  read(at: number, n: number): Buffer {
    if (at < this.start || at + n > this.end || n < 0) throw new RangeError('not held');
    let lo = this.first;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    const parts: Buffer[] = [];
    for (let i = lo, got = 0; got < n; i++) {
      const c = this.chunks[i]!;
      const from = Math.max(at, this.offsets[i]!) - this.offsets[i]!;
      const to = Math.min(at + n - this.offsets[i]!, c.length);
      parts.push(c.subarray(from, to));
      got += to - from;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** Removes and returns the chunks (views of them) holding bytes [start, upTo). */
  take(upTo: number): Buffer[] {
    const out: Buffer[] = [];
    while (this.start < upTo && this.first < this.chunks.length) {
      const i = this.first;
      const c = this.chunks[i]!;
      const skip = this.start - this.offsets[i]!;
      const n = Math.min(c.length - skip, upTo - this.start);
      out.push(c.subarray(skip, skip + n));
      this.start += n;
      if (skip + n === c.length) this.chunks[this.first++] = EMPTY; // passed on: not ours to keep alive
    }
    // Passed-on chunks are let go now and then, not one array shift per chunk.
    if (this.first > 1024 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.offsets = this.offsets.slice(this.first);
      this.first = 0;
    }
    return out;
  }
}
