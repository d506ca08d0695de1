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
 * `file` with the AudioSpecificConfig in its esds replaced by `asc(old)`, or its descriptor removed
 * when that is undefined: the boxes on the path and the descriptors around it (ES, DecoderConfig,
 * DecoderSpecificInfo) resized. ffmpeg writes each descriptor length in four bytes (0x80 0x80 0x80 n).
 */
export function withAsc(file: Buffer, asc: (old: Buffer) => Buffer | undefined): Buffer {
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
  assert.ok(p + old.length <= esdsEnd);
  // Without a record, its descriptor's own five header bytes go too, and its length is not kept.
  const from = next === undefined ? p - 5 : p;
  const delta = (next?.length ?? 0) - old.length - (p - from);
  const out = Buffer.concat([file.subarray(0, from), next ?? Buffer.alloc(0), file.subarray(p + old.length)]);
  for (const at of next === undefined ? lengths.slice(0, 2) : lengths) out[at] = out[at]! + delta;
  for (const [start] of path) out.writeUInt32BE(out.readUInt32BE(start) + delta, start);
  return out;
}

/**
 * `file` (its first track AAC) with no AudioSpecificConfig in its sample entry (unless `emptyFirst`
 * is false), and a second sample entry whose config hides `hidden`, which every chunk then uses:
 * ffmpeg's reader hands that config on with the packets, and a muxer took it for the track when
 * the first had none (review, session 6).
 */
export function withHiddenSecondEntry(file: Buffer, hidden: Buffer, opts: { emptyFirst?: boolean } = {}): Buffer {
  const STBL = ESDS_PATH.slice(0, 5);
  const withHidden = withAsc(file, (asc) => Buffer.concat([asc, hidden]));
  const [entryStart, entryEnd] = boxPath(withHidden, [...STBL, 'stsd', 'mp4a']).at(-1)!;
  let out = opts.emptyFirst === false ? Buffer.from(file) : withAsc(file, () => undefined);
  const stsd = boxPath(out, [...STBL, 'stsd']);
  out = inserted(out, stsd, stsd.at(-1)![1], withHidden.subarray(entryStart, entryEnd));
  out.writeUInt32BE(2, stsd.at(-1)![0] + 12);
  const [stscStart] = boxPath(out, [...STBL, 'stsc']).at(-1)!;
  for (let i = 0; i < out.readUInt32BE(stscStart + 12); i++) out.writeUInt32BE(2, stscStart + 16 + i * 12 + 8);
  return out;
}
