/**
 * The bytes of a stream that have arrived and are not yet passed on, as the chunks they came in:
 * read across chunk boundaries by file offset without joining them (an upload arrives in 64 KiB
 * chunks; joining each into one buffer would copy a 16 MiB moov hundreds of times).
 */
export class ByteWindow {
  private chunks: Buffer[] = [];
  /** File offset of the first byte held. */
  start = 0;
  /** File offset just past the last byte held. */
  end = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.end += chunk.length;
  }

  get held(): number {
    return this.end - this.start;
  }

  /** Bytes [at, at + n), which must be held: a view when they lie in one chunk, else a copy. */
  read(at: number, n: number): Buffer {
    if (at < this.start || at + n > this.end) throw new RangeError('not held');
    let off = this.start;
    const parts: Buffer[] = [];
    for (const c of this.chunks) {
      if (off + c.length > at) {
        const from = Math.max(at, off);
        const to = Math.min(at + n, off + c.length);
        parts.push(c.subarray(from - off, to - off));
      }
      off += c.length;
      if (off >= at + n) break;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** Removes and returns the chunks (views of them) holding bytes [start, upTo). */
  take(upTo: number): Buffer[] {
    const out: Buffer[] = [];
    while (this.start < upTo && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      const n = Math.min(c.length, upTo - this.start);
      out.push(n === c.length ? c : c.subarray(0, n));
      if (n === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(n);
      this.start += n;
    }
    return out;
  }
}
