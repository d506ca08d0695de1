/**
 * The NAL length size of each HEVC stream of an MP4/MOV/3GP, read from the hvcC records in the file's
 * own moov, so that the SEI scrub (video-sei-scrub.ts) needs no second ffprobe run. ffprobe's HEVC
 * decoder exports no length size (H.264's does), and asking ffprobe for the hvcC bytes takes
 * -show_data, which cannot go with the packet listing (it would hex-dump every packet): a run of its
 * own, ~0.1 s on every iPhone video, whose default codec is HEVC.
 *
 * Trust: the file's author controls both the records and what ffprobe reports, and a wrong size
 * would let the scrub's walk tile a sample differently from the decoder (an SEI unit kept, or slice
 * bytes blanked). So every track is classified, and must agree with ffprobe's stream at the same
 * position (ffmpeg makes one stream per trak, in order; cover pictures aside): HEVC here only for a
 * 'vide' track with one hvc1/hev1 sample description whose children are all known not to replace
 * ffmpeg's extradata (an extra glbl, avcC or strf would), and exactly as long as the extradata
 * ffprobe reports. Any other HEVC-looking track (Dolby Vision's dvh1/dvhe, a second sample table),
 * any disagreement, a moov too big or too many boxes: undefined, and the caller asks ffprobe.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ProbedStream } from './video-probe.ts';
import { topLevelBoxes } from './iso-boxes.ts';
import { isCoverArt } from './video-probe.ts';

/**
 * Real moovs are a few MiB even for hours of video; a larger one is left to ffprobe. The moov is read
 * whole and synchronously (a few hundred KiB from RAM-backed scratch for a phone clip), so this also
 * bounds how long the read can hold the event loop.
 */
const MAX_MOOV = 16 * 1024 * 1024;
const MAX_TOP_BOXES = 20_000;
/** More children than this in one box is not a file a phone or an editor wrote: left to ffprobe. */
const MAX_CHILDREN = 4_096;
/** A visual sample entry: box header, 6 reserved bytes, data reference index, 70 bytes of fields. */
const VISUAL_ENTRY_FIELDS = 86;
const HVCC_MIN = 23;
const LENGTH_AT = 21;
/** Sample description types ffmpeg 5.1 reads as HEVC; we read the plain ones only. */
const FFMPEG_HEVC = new Set(['hvc1', 'hev1', 'dvh1', 'dvhe']);
const PLAIN_HEVC = new Set(['hvc1', 'hev1']);
/**
 * Children of an hvc1/hev1 entry that ffmpeg reads as something other than extradata (aspect,
 * colour, bit rate, field order, Dolby Vision and HDR side data, spherical video).
 */
const HARMLESS = new Set(['pasp', 'colr', 'btrt', 'clap', 'fiel', 'dvcC', 'dvvC', 'dvwC', 'mdcv', 'clli', 'amve', 'st3d', 'sv3d', 'SA3D']);

type Track = { hevc: Buffer } | 'other';

/** Index of every HEVC stream in `indexes` → its NAL length size (1, 2 or 4); undefined if unsure. */
export function hvccLengthsFromMoov(path: string, streams: ProbedStream[], indexes: number[]): Map<number, number> | undefined {
  const moov = readMoov(path);
  if (!moov) return undefined;
  const traks = only(moov, 8, 'trak', true);
  if (!traks) return undefined;
  const tracks: Track[] = [];
  for (const trak of traks) {
    const t = classify(trak);
    if (t === undefined) return undefined;
    tracks.push(t);
  }
  const byPosition = streams.filter((s) => !isCoverArt(s)).sort((a, b) => a.index - b.index);
  if (byPosition.length !== tracks.length) return undefined;
  const out = new Map<number, number>();
  for (const [i, s] of byPosition.entries()) {
    const t = tracks[i]!;
    if ((s.codec_name === 'hevc') !== (t !== 'other')) return undefined;
    if (t === 'other') continue;
    const size = hvccLengthSize(t.hevc, s.extradata_size);
    if (size === undefined) return undefined;
    out.set(s.index, size);
  }
  return indexes.every((i) => out.has(i)) ? out : undefined;
}

/**
 * The NAL length size (1, 2 or 4) an HEVCDecoderConfigurationRecord gives, when the record is
 * `expectedLength` bytes (what ffprobe reports) and well formed; else undefined.
 */
export function hvccLengthSize(rec: Buffer, expectedLength: number | undefined): number | undefined {
  if (rec.length !== expectedLength || rec.length < HVCC_MIN || rec[0] !== 1) return undefined;
  const size = (rec[LENGTH_AT]! & 3) + 1;
  return size === 3 ? undefined : size; // 3 is not allowed by ISO 14496-15
}

/** The one top-level moov, whole; undefined for none, two, one with a 64-bit size, or one too big. */
function readMoov(path: string): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    const moovs = topLevelBoxes(fd, fstatSync(fd).size, MAX_TOP_BOXES)?.filter((b) => b.type === 'moov');
    const moov = moovs?.length === 1 ? moovs[0]! : undefined;
    if (!moov || moov.header !== 8 || moov.end - moov.start > MAX_MOOV) return undefined;
    const buf = Buffer.alloc(moov.end - moov.start);
    return readSync(fd, buf, 0, buf.length, moov.start) === buf.length ? buf : undefined;
  } finally {
    closeSync(fd);
  }
}

/** The boxes inside `box` from `start`; undefined when one is malformed or there are too many. */
function boxes(box: Buffer, start: number): Array<{ type: string; box: Buffer }> | undefined {
  const out: Array<{ type: string; box: Buffer }> = [];
  let p = start;
  while (p + 8 <= box.length) {
    const size = box.readUInt32BE(p);
    if (size < 8 || p + size > box.length || out.length >= MAX_CHILDREN) return undefined;
    out.push({ type: box.toString('latin1', p + 4, p + 8), box: box.subarray(p, p + size) });
    p += size;
  }
  return out;
}

/** Every child of type `type` (`many`), or the one child of that type; undefined if unsure. */
function only(box: Buffer, start: number, type: string, many: true): Buffer[] | undefined;
function only(box: Buffer, start: number, type: string): Buffer | undefined;
function only(box: Buffer, start: number, type: string, many = false): Buffer[] | Buffer | undefined {
  const all = boxes(box, start);
  if (!all) return undefined;
  const found = all.filter((c) => c.type === type).map((c) => c.box);
  if (many) return found;
  return found.length === 1 ? found[0] : undefined;
}

/** What ffmpeg will make of a trak, as far as HEVC goes; undefined when we cannot be sure. */
function classify(trak: Buffer): Track | undefined {
  const mdia = only(trak, 8, 'mdia');
  const hdlr = mdia && only(mdia, 8, 'hdlr');
  const minf = mdia && only(mdia, 8, 'minf');
  const stbl = minf && only(minf, 8, 'stbl');
  const stsd = stbl && only(stbl, 8, 'stsd');
  if (!hdlr || !stsd || hdlr.length < 20 || stsd.length < 16 + 8) return undefined;
  const entry = stsd.subarray(16);
  const type = entry.toString('latin1', 4, 8);
  if (!FFMPEG_HEVC.has(type)) return 'other';
  // Dolby Vision's own types, a track that is not video, several descriptions: left to ffprobe.
  if (!PLAIN_HEVC.has(type) || hdlr.toString('latin1', 16, 20) !== 'vide' || stsd.readUInt32BE(12) !== 1) return undefined;
  const size = entry.readUInt32BE(0);
  if (size < VISUAL_ENTRY_FIELDS || size > entry.length) return undefined;
  const children = boxes(entry.subarray(0, size), VISUAL_ENTRY_FIELDS);
  if (!children) return undefined;
  const hvcc = children.filter((c) => c.type === 'hvcC');
  if (hvcc.length !== 1 || children.some((c) => c.type !== 'hvcC' && !HARMLESS.has(c.type))) return undefined;
  return { hevc: hvcc[0]!.box.subarray(8) };
}
