/**
 * Takes SEI units out of the HEVC decoder configuration (hvcC) of an MP4/MOV/3GP, in place: the
 * tipster's file before a streamed remux (video-stream.ts), or ffmpeg's output after a remux to
 * scratch (video.ts).
 *
 * Threat: x265 writes its build and full command line ("x265 (build 199) - 3.5+1:[Linux][GCC 12.2.0]
 * ... options: ...") as a user-data SEI, and phone encoders write their own; ffmpeg stores these
 * SEI units in the hvcC box's NAL arrays as well as in the first frame. The filter_units bitstream
 * filter of ffmpeg 5.1 removes them from frames but copies the extradata unfiltered (checked: a
 * raw byte search still finds "x265" after it, and hevc_metadata does not touch SEI either).
 * Defence: we rebuild the moov box with hvcC arrays of prefix and suffix SEI (NAL types 39 and 40)
 * left out, fixing every enclosing box size. Only when the moov is the one and last top-level box
 * (as phones write it, and as our ffmpeg arguments do): shrinking it then moves no sample data and
 * no chunk offset. Any other layout is refused rather than guessed at, and the streamed cleaner
 * then cleans ffmpeg's small output moov as it streams past instead (video-moov-stream.ts). Two
 * moovs are refused because ffmpeg reads the first and skips the rest: cleaning another one would
 * leave the SEI in place (it did, before). A hostile file's box tree is walked with bounds (at most
 * 100,000 top-level boxes, a moov of at most 16 MiB held in RAM), as by the other readers.
 */
import { open } from 'node:fs/promises';
import { topLevelBoxes } from './iso-boxes.ts';

/**
 * The path from moov to hvcC, as ffmpeg's muxer writes it: each box, where its children start, and
 * which of them lead on. Nothing else is descended into, so a box tree nested thousands deep costs
 * nothing (it once cost 24 s of the event loop: review, session 5).
 */
const PATH: Record<string, { childStart: number; next: Set<string> }> = {
  moov: { childStart: 8, next: new Set(['trak']) },
  trak: { childStart: 8, next: new Set(['mdia']) },
  mdia: { childStart: 8, next: new Set(['minf']) },
  minf: { childStart: 8, next: new Set(['stbl']) },
  stbl: { childStart: 8, next: new Set(['stsd']) },
  // Dolby Vision's entries too: ffmpeg writes hvc1/hev1, but a copied tag must not hide an hvcC.
  stsd: { childStart: 16, next: new Set(['hvc1', 'hev1', 'dvh1', 'dvhe']) }, // full box header + entry count
  hvc1: { childStart: 86, next: new Set(['hvcC']) }, // visual sample entry fields
  hev1: { childStart: 86, next: new Set(['hvcC']) },
  dvh1: { childStart: 86, next: new Set(['hvcC']) },
  dvhe: { childStart: 86, next: new Set(['hvcC']) },
};
const SEI_TYPES = new Set([39, 40]);
/** Real moovs are a few MiB at most (video-moov-stream.ts uses the same bound). */
const MAX_MOOV = 16 * 1024 * 1024;
const MAX_TOP_BOXES = 100_000;

export class HvccLayoutError extends Error {}

/** Removes SEI arrays from every hvcC in `path`, in place. Returns how many SEI units went. */
export async function stripHvccSei(path: string): Promise<number> {
  const fh = await open(path, 'r+');
  try {
    const size = (await fh.stat()).size;
    const boxes = topLevelBoxes(fh.fd, size, MAX_TOP_BOXES);
    if (!boxes) throw new HvccLayoutError('bad top-level boxes, or too many');
    const found = boxes.filter((b) => b.type === 'moov');
    if (found.length !== 1) throw new HvccLayoutError(found.length === 0 ? 'no moov' : 'more than one moov');
    const moov = { offset: found[0]!.start, size: found[0]!.end - found[0]!.start };
    if (moov.offset + moov.size !== size) throw new HvccLayoutError('moov is not the last box');
    if (moov.size > MAX_MOOV) throw new HvccLayoutError('moov too large');
    const data = Buffer.alloc(moov.size);
    await fh.read(data, 0, moov.size, moov.offset);
    const counter = { removed: 0 };
    const rebuilt = rebuildMoov(data, counter);
    if (rebuilt.equals(data)) return 0;
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

/** A box on PATH rebuilt with its children on PATH rebuilt; sizes are recomputed on the way up. */
function rebuild(box: Buffer, type: string, counter: { removed: number }): Buffer {
  if (type === 'hvcC') return withSize(Buffer.concat([box.subarray(0, 8), cleanHvcc(box.subarray(8), counter)]));
  const step = PATH[type];
  if (step === undefined) return box;
  if (box.readUInt32BE(0) === 1) throw new HvccLayoutError('64-bit size inside moov');
  const parts: Buffer[] = [box.subarray(0, step.childStart)];
  let p = step.childStart;
  while (p + 8 <= box.length) {
    const size = box.readUInt32BE(p);
    if (size < 8 || p + size > box.length) throw new HvccLayoutError(`bad box inside ${type}`);
    const child = box.subarray(p, p + size);
    const childType = child.toString('latin1', 4, 8);
    parts.push(step.next.has(childType) ? rebuild(child, childType, counter) : child);
    p += size;
  }
  if (p !== box.length) parts.push(box.subarray(p));
  return withSize(Buffer.concat(parts));
}

function withSize(box: Buffer): Buffer {
  box.writeUInt32BE(box.length, 0);
  return box;
}

/**
 * HEVCDecoderConfigurationRecord: 22 fixed bytes, numOfArrays, then arrays of NAL units. A unit is
 * judged by its own header, as ffmpeg's decoder reads it, not by the type its array claims: an SEI
 * filed under the VPS array went through when only arrays were judged (review, session 5). Empty
 * units go too, and so does anything after the last array, where no reader looks but a byte
 * search would.
 */
export function cleanHvcc(rec: Buffer, counter: { removed: number }): Buffer {
  if (rec.length < 23) throw new HvccLayoutError('short hvcC');
  const arrays: Buffer[] = [];
  let kept = 0;
  let p = 23;
  for (let i = 0; i < (rec[22] ?? 0); i++) {
    if (p + 3 > rec.length) throw new HvccLayoutError('short hvcC array');
    const head = rec[p]!;
    const count = rec.readUInt16BE(p + 1);
    p += 3;
    const units: Buffer[] = [];
    for (let n = 0; n < count; n++) {
      if (p + 2 > rec.length) throw new HvccLayoutError('short hvcC NAL');
      const end = p + 2 + rec.readUInt16BE(p);
      if (end > rec.length) throw new HvccLayoutError('hvcC NAL past its end');
      const unit = rec.subarray(p, end);
      p = end;
      const type = unit.length > 2 ? (unit[2]! >> 1) & 0x3f : -1;
      if (type < 0 || SEI_TYPES.has(type) || SEI_TYPES.has(head & 0x3f)) counter.removed++;
      else units.push(unit);
    }
    if (units.length === 0) continue;
    const arrayHead = Buffer.from([head, 0, 0]);
    arrayHead.writeUInt16BE(units.length, 1);
    arrays.push(arrayHead, ...units);
    kept++;
  }
  const fixed = Buffer.from(rec.subarray(0, 23));
  fixed[22] = kept;
  return Buffer.concat([fixed, ...arrays]);
}
