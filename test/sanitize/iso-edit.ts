/** Editing an MP4's box tree in tests: finding a box by its path, and growing boxes to hold more. */
import assert from 'node:assert/strict';

/** Absolute [start, end) of each box on the path from the top level, in a file whose moov is last. */
export function boxPath(file: Buffer, path: string[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  // Where children start: after the header, after stsd's version and count, after a visual or an
  // audio entry's fields.
  const childrenAt = (type: string) => (type === 'stsd' ? 16 : ['hvc1', 'hev1', 'avc1'].includes(type) ? 86
    : ['mp4a', 'alac', 'Opus', 'fLaC'].includes(type) ? 36 : 8);
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


/** Where the AAC configuration lives, in a file whose first track is the audio one. */
export const ESDS_PATH = ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd', 'mp4a', 'esds'];

/**
 * `file` with the AudioSpecificConfig in its esds replaced by `asc(old)`: the boxes on the path and
 * the three descriptors around it (ES, DecoderConfig, DecoderSpecificInfo) resized. ffmpeg writes
 * each descriptor length in four bytes (0x80 0x80 0x80 n).
 */
export function withAsc(file: Buffer, asc: (old: Buffer) => Buffer): Buffer {
  const path = boxPath(file, ESDS_PATH);
  const [esdsStart, esdsEnd] = path[path.length - 1]!;
  const lengths: number[] = [];
  let p = esdsStart + 12;
  for (const [tag, skip] of [[3, 3], [4, 13], [5, 0]] as const) {
    assert.equal(file[p], tag, `descriptor ${tag}`);
    assert.deepEqual([...file.subarray(p + 1, p + 4)], [0x80, 0x80, 0x80]);
    lengths.push(p + 4);
    p += 5 + skip;
  }
  const old = file.subarray(p, p + file[p - 1]!);
  const next = asc(Buffer.from(old));
  const delta = next.length - old.length;
  assert.ok(p + old.length <= esdsEnd);
  const out = Buffer.concat([file.subarray(0, p), next, file.subarray(p + old.length)]);
  for (const at of lengths) out[at] = out[at]! + delta;
  for (const [start] of path) out.writeUInt32BE(out.readUInt32BE(start) + delta, start);
  return out;
}
