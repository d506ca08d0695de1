/** Editing an MP4's box tree in tests: finding a box by its path, and growing boxes to hold more. */
import assert from 'node:assert/strict';

/** Absolute [start, end) of each box on the path from the top level, in a file whose moov is last. */
export function boxPath(file: Buffer, path: string[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  // Where children start: after the header, after stsd's version and count, after a visual entry's fields.
  const childrenAt = (type: string) => (type === 'stsd' ? 16 : ['hvc1', 'hev1', 'avc1'].includes(type) ? 86 : 8);
  let [from, to, skip] = [0, file.length, 0];
  for (const want of path) {
    let p = from + skip;
    for (;;) {
      assert.ok(p + 8 <= to, `no ${want}`);
      const size = file.readUInt32BE(p);
      if (file.toString('latin1', p + 4, p + 8) === want) break;
      p += size;
    }
    out.push([p, p + file.readUInt32BE(p)]);
    [from, to, skip] = [p, p + file.readUInt32BE(p), childrenAt(want)];
  }
  return out;
}

/** `file` with `bytes` put at `at` inside the boxes of `path`, each of them grown to hold it. */
export function inserted(file: Buffer, path: Array<[number, number]>, at: number, bytes: Buffer): Buffer {
  const out = Buffer.concat([file.subarray(0, at), bytes, file.subarray(at)]);
  for (const [start] of path) out.writeUInt32BE(out.readUInt32BE(start) + bytes.length, start);
  return out;
}

