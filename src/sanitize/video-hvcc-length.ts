/**
 * The NAL length size of each HEVC stream of an MP4/MOV/3GP, read from the hvcC records in the file's
 * own moov, so that the SEI scrub (video-sei-scrub.ts) needs no second ffprobe run. ffprobe's HEVC
 * decoder exports no length size (H.264's does), and asking ffprobe for the hvcC bytes takes
 * -show_data, which cannot go with the packet listing (it would hex-dump every packet): a run of its
 * own, ~0.1 s on every iPhone video, whose default codec is HEVC.
 *
 * Trust: ffprobe names the streams, we only read one byte of a record. A record is used only when
 * the file's HEVC tracks and ffprobe's HEVC streams match one to one, in order, each record exactly
 * as long as the extradata ffprobe reports for its stream. Anything else (two moovs, several sample
 * descriptions, a moov too big to read whole) returns undefined, and the caller asks ffprobe. A
 * wrong size could not blank the wrong bytes anyway: the scrub's walk must tile every sample with
 * NAL units of that size before it writes anything.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ProbedStream } from './video-probe.ts';
import { isCoverArt } from './video-probe.ts';

/**
 * Real moovs are a few MiB even for hours of video; a larger one is left to ffprobe. The moov is read
 * whole and synchronously (a few hundred KiB from RAM-backed scratch for a phone clip), so this also
 * bounds how long the read can hold the event loop.
 */
const MAX_MOOV = 16 * 1024 * 1024;
const MAX_TOP_BOXES = 100_000;
/** A visual sample entry: box header, 6 reserved bytes, data reference index, 70 bytes of fields. */
const VISUAL_ENTRY_FIELDS = 86;
const HVCC_MIN = 23;
const LENGTH_AT = 21;

/** Index of every HEVC stream in `indexes` → its NAL length size (1, 2 or 4); undefined if unsure. */
export function hvccLengthsFromMoov(path: string, streams: ProbedStream[], indexes: number[]): Map<number, number> | undefined {
  const moov = readMoov(path);
  if (!moov) return undefined;
  const records: Buffer[] = [];
  for (const trak of children(moov, 8)) {
    if (trak === undefined) return undefined;
    if (trak.type !== 'trak') continue;
    const rec = hvccOf(trak.box);
    if (rec === null) return undefined;
    if (rec) records.push(rec);
  }
  const hevc = streams.filter((s) => s.codec_name === 'hevc' && !isCoverArt(s)).sort((a, b) => a.index - b.index);
  if (hevc.length !== records.length) return undefined;
  const out = new Map<number, number>();
  for (const [i, s] of hevc.entries()) {
    const rec = records[i]!;
    if (rec.length !== s.extradata_size || rec.length < HVCC_MIN || rec[0] !== 1) return undefined;
    const size = (rec[LENGTH_AT]! & 3) + 1;
    if (size === 3) return undefined; // not allowed by ISO 14496-15
    out.set(s.index, size);
  }
  return indexes.every((i) => out.has(i)) ? out : undefined;
}

/** The one top-level moov, whole; undefined for none, two, or one too big. */
function readMoov(path: string): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(16);
    let moov: { at: number; size: number } | undefined;
    for (let at = 0, boxes = 0; at < size; boxes++) {
      if (at + 8 > size || boxes > MAX_TOP_BOXES) return undefined;
      readSync(fd, head, 0, 16, at);
      let box = head.readUInt32BE(0);
      if (box === 1) box = at + 16 <= size ? Number(head.readBigUInt64BE(8)) : 0;
      else if (box === 0) box = size - at;
      if (box < 8 || at + box > size) return undefined;
      if (head.toString('latin1', 4, 8) === 'moov') {
        if (moov || head.readUInt32BE(0) === 1) return undefined;
        moov = { at, size: box };
      }
      at += box;
    }
    if (!moov || moov.size > MAX_MOOV) return undefined;
    const buf = Buffer.alloc(moov.size);
    return readSync(fd, buf, 0, moov.size, moov.at) === moov.size ? buf : undefined;
  } finally {
    closeSync(fd);
  }
}

/** The boxes inside `box` from `start`; undefined in place of the rest when one is malformed. */
function* children(box: Buffer, start: number): Generator<{ type: string; box: Buffer } | undefined> {
  let p = start;
  while (p + 8 <= box.length) {
    const size = box.readUInt32BE(p);
    if (size < 8 || p + size > box.length) {
      yield undefined;
      return;
    }
    yield { type: box.toString('latin1', p + 4, p + 8), box: box.subarray(p, p + size) };
    p += size;
  }
}

function child(box: Buffer, start: number, type: string): Buffer | null | undefined {
  for (const c of children(box, start)) {
    if (c === undefined) return null;
    if (c.type === type) return c.box;
  }
  return undefined;
}

/** A trak's hvcC payload; undefined when its track is not HEVC; null when unsure. */
function hvccOf(trak: Buffer): Buffer | null | undefined {
  let box: Buffer = trak;
  for (const type of ['mdia', 'minf', 'stbl']) {
    const next = child(box, 8, type);
    if (next === null) return null;
    if (next === undefined) return undefined; // no sample table: ffprobe's stream, if any, is not HEVC from here
    box = next;
  }
  const stsd = child(box, 8, 'stsd');
  if (!stsd) return stsd === null ? null : undefined;
  if (stsd.length < 16 + 8) return undefined;
  const entries = stsd.readUInt32BE(12);
  const entry = stsd.subarray(16);
  const type = entry.toString('latin1', 4, 8);
  if (type !== 'hvc1' && type !== 'hev1') return undefined;
  // Several sample descriptions could switch configuration mid-stream: leave that to ffprobe.
  if (entries !== 1) return null;
  const size = entry.readUInt32BE(0);
  if (size < VISUAL_ENTRY_FIELDS || size > entry.length) return null;
  const hvcc = child(entry.subarray(0, size), VISUAL_ENTRY_FIELDS, 'hvcC');
  return hvcc ? hvcc.subarray(8) : null;
}
