/**
 * Takes SEI units out of the HEVC decoder configuration (hvcC) of an MP4/MOV/3GP we just remuxed.
 *
 * Threat: x265 writes its build and full command line ("x265 (build 199) - 3.5+1:[Linux][GCC 12.2.0]
 * ... options: ...") as a user-data SEI, and phone encoders write their own; ffmpeg stores these
 * SEI units in the hvcC box's NAL arrays as well as in the first frame. The filter_units bitstream
 * filter of ffmpeg 5.1 removes them from frames but copies the extradata unfiltered (checked: a
 * raw byte search still finds "x265" after it, and hevc_metadata does not touch SEI either).
 * Defence: after ffmpeg has written the file, we rebuild its moov box with hvcC arrays of prefix
 * and suffix SEI (NAL types 39 and 40) left out, fixing every enclosing box size. Our ffmpeg
 * arguments never ask for faststart, so moov is the last box: shrinking it moves no sample data
 * and no chunk offset. Any other layout is refused rather than guessed at.
 */
import { open } from 'node:fs/promises';

/** Boxes on the path from moov to hvcC, with where their children start. */
const CONTAINERS: Record<string, number> = {
  moov: 8, trak: 8, mdia: 8, minf: 8, stbl: 8,
  stsd: 16, // full box header + entry count
  hvc1: 86, hev1: 86, // visual sample entry fields
};
const SEI_TYPES = new Set([39, 40]);
const MAX_MOOV = 256 * 1024 * 1024;

export class HvccLayoutError extends Error {}

/** Removes SEI arrays from every hvcC in `path`, in place. Returns how many SEI units went. */
export async function stripHvccSei(path: string): Promise<number> {
  const fh = await open(path, 'r+');
  try {
    const size = (await fh.stat()).size;
    let offset = 0;
    let moov: { offset: number; size: number } | undefined;
    const head = Buffer.alloc(16);
    while (offset + 8 <= size) {
      await fh.read(head, 0, 16, offset);
      let boxSize = head.readUInt32BE(0);
      if (boxSize === 1) boxSize = Number(head.readBigUInt64BE(8));
      else if (boxSize === 0) boxSize = size - offset;
      if (boxSize < 8 || offset + boxSize > size) throw new HvccLayoutError('bad top-level box');
      if (head.toString('latin1', 4, 8) === 'moov') moov = { offset, size: boxSize };
      offset += boxSize;
    }
    if (!moov) throw new HvccLayoutError('no moov');
    if (moov.offset + moov.size !== size) throw new HvccLayoutError('moov is not the last box');
    if (moov.size > MAX_MOOV) throw new HvccLayoutError('moov too large');
    const data = Buffer.alloc(moov.size);
    await fh.read(data, 0, moov.size, moov.offset);
    const counter = { removed: 0 };
    const rebuilt = rebuildMoov(data, counter);
    if (counter.removed === 0) return 0;
    await fh.write(rebuilt, 0, rebuilt.length, moov.offset);
    await fh.truncate(moov.offset + rebuilt.length);
    return counter.removed;
  } finally {
    await fh.close();
  }
}

/** A moov box with the SEI arrays of every hvcC left out; `counter` counts the SEI units removed. */
export function rebuildMoov(moov: Buffer, counter: { removed: number }): Buffer {
  return rebuild(moov, 'moov', counter);
}

/** A box rebuilt with its children rebuilt; sizes are recomputed on the way up. */
function rebuild(box: Buffer, type: string, counter: { removed: number }): Buffer {
  if (type === 'hvcC') return withSize(Buffer.concat([box.subarray(0, 8), cleanHvcc(box.subarray(8), counter)]));
  const childStart = CONTAINERS[type];
  if (childStart === undefined) return box;
  if (box.readUInt32BE(0) === 1) throw new HvccLayoutError('64-bit size inside moov');
  const parts: Buffer[] = [box.subarray(0, childStart)];
  let p = childStart;
  while (p + 8 <= box.length) {
    const size = box.readUInt32BE(p);
    if (size < 8 || p + size > box.length) throw new HvccLayoutError(`bad box inside ${type}`);
    const child = box.subarray(p, p + size);
    parts.push(rebuild(child, child.toString('latin1', 4, 8), counter));
    p += size;
  }
  if (p !== box.length) parts.push(box.subarray(p));
  return withSize(Buffer.concat(parts));
}

function withSize(box: Buffer): Buffer {
  box.writeUInt32BE(box.length, 0);
  return box;
}

/** HEVCDecoderConfigurationRecord: 22 fixed bytes, numOfArrays, then arrays of NAL units by type. */
export function cleanHvcc(rec: Buffer, counter: { removed: number }): Buffer {
  if (rec.length < 23) throw new HvccLayoutError('short hvcC');
  const kept: Buffer[] = [];
  let p = 23;
  for (let i = 0; i < (rec[22] ?? 0); i++) {
    const start = p;
    if (p + 3 > rec.length) throw new HvccLayoutError('short hvcC array');
    const nalType = (rec[p] ?? 0) & 0x3f;
    const count = rec.readUInt16BE(p + 1);
    p += 3;
    for (let n = 0; n < count; n++) {
      if (p + 2 > rec.length) throw new HvccLayoutError('short hvcC NAL');
      p += 2 + rec.readUInt16BE(p);
    }
    if (p > rec.length) throw new HvccLayoutError('hvcC NAL past its end');
    if (SEI_TYPES.has(nalType)) counter.removed += count;
    else kept.push(rec.subarray(start, p));
  }
  const fixed = Buffer.from(rec.subarray(0, 23));
  fixed[22] = kept.length;
  return Buffer.concat([fixed, ...kept, rec.subarray(p)]);
}
