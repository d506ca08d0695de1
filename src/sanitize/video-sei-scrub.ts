/**
 * Blanks the SEI units of H.264/HEVC frames in an MP4/MOV/3GP, in place, so the remux needs no filter.
 *
 * Threat: SEI (supplemental enhancement information) units ride inside the frames: x264/x265 write
 * their build and full option list there, and cameras, phones and drones write their own user data
 * (settings, serials, sometimes telemetry). A `-c copy` remux copies them bit for bit.
 * Defence: ffmpeg's filter_units removes them but costs ~5 CPU-seconds per GiB. Instead we find each
 * sample with ffprobe, walk its length-prefixed NAL units ourselves and overwrite every SEI unit
 * with a filler-data unit of exactly its length, which decoders discard. Sample sizes and offsets
 * stay valid, so the caller can remux with `-c copy` alone. Whenever we cannot be sure we saw every
 * unit (no avcC/hvcC, a sample outside mdat or overlapping another, lengths that do not tile a
 * sample, any ffprobe complaint) we return undefined before writing anything, and the caller keeps
 * the slow filter.
 * Limits: every SEI goes, HDR mastering/light-level data and captions too, as with filter_units.
 * The length and place of each removed unit remain visible. Filler before the first slice is
 * outside the letter of the H.264/HEVC specs; decoders ignore it. SEI in the hvcC record is
 * video-hvcc.ts's job; other containers (Matroska) are refused here.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { runTool } from './subprocess.ts';
import type { ToolLimits } from './subprocess.ts';
import { inputArgs, limitsFor, listPackets } from './video-probe.ts';
import { topLevelBoxes } from './iso-boxes.ts';
import { packetSpan } from './video-packets.ts';
import type { ProbedStream } from './video-probe.ts';

export type Codec = 'h264' | 'hevc';
// The NAL header of a filler unit, and how to tell an SEI unit. The NAL length size comes from
// ffprobe (H.264) or the hvcC record (HEVC: hvccLengthSize).
const CODEC = {
  h264: { header: Buffer.from([0x0c]), isSei: (b: Buffer) => (b[0]! & 0x1f) === 6 },
  hevc: { header: Buffer.from([0x4c, 0x01]), isSei: (b: Buffer) => (b[0]! & 0x7e) === 78 || (b[0]! & 0x7e) === 80 },
};
/** runTool keeps at most this much stdout: a longer listing may be cut, so we cannot trust it. */
const MAX_STDOUT = 64 * 1024 * 1024;
/** Real streams stay far below these averages; past them, the slow filter (under prlimit) takes over. */
const NALS_PER_PACKET = 16;
const SEI_PER_PACKET = 4;
/** Far beyond any real frame (slices per picture); a walk past it is a crafted sample. */
const MAX_NALS_PER_SAMPLE = 65_536;
const MAX_TOP_BOXES = 100_000;

const Streams = z.object({
  streams: z.array(z.object({ index: z.number(), codec_name: z.string().optional(), extradata: z.string().optional(), extradata_size: z.number().optional() })),
});

/** ffprobe's streams and packets of the file (video-probe.ts listPackets), when the caller has them already. */
export interface Listing {
  streams: ProbedStream[];
  /** Undefined when ffprobe was not sure of every packet. */
  packets: unknown[] | undefined;
  /** configRecords() of the file, when the caller ran it already. */
  records?: ConfigRecords | undefined;
}

/**
 * Overwrites every SEI unit of `streams` in `path` with filler; how many, or undefined when unsure.
 * Without `listing`, ffprobe is run here (one run; for HEVC, a second one reads the hvcC as ffmpeg
 * does: hvccLengthSizes).
 */
export async function scrubSeiInPlace(
  path: string, streams: Array<{ index: number; codec: Codec }>, listing?: Listing, limits?: ToolLimits,
  /** Given, it receives every unit blanked, as flat (offset, length, codec) triples (FILL_CODECS). */
  fillsOut?: number[],
  /** Find the units but write nothing (video-early-check.ts only looks). */
  dryRun = false,
): Promise<number | undefined> {
  if (streams.length === 0) return 0;
  let l = listing;
  if (l === undefined) {
    const got = await listPackets(path, 'mov');
    if (got === undefined) return undefined;
    l = { streams: got.probe.streams, packets: got.packets };
  }
  if (l.packets === undefined) return undefined;

  // Each configuration record as ffmpeg reads it, in a second ffprobe run: ffmpeg may take it from a
  // box other than the file's own top-level moov (a glbl, a moov hidden in a udta), a walk with the
  // wrong length size could pass over an SEI (test/sanitize/video-hvcc-length.test.ts), and with no
  // filter ffmpeg copies the record as it is into the output, so it must hold nothing but what a
  // decoder needs (plainAvcc; HEVC's is cleaned on its way out, video-hvcc.ts).
  const records = l.records ?? await configRecords(path, 'mov', limits ?? { ...limitsFor(path, false), fileBytes: 0 });
  // Any complaint means ffprobe may have read the file differently from the listing.
  if (records === undefined || !records.sure) return undefined;
  const lengthSize = lengthSizes(streams, l.streams, records);
  if (!lengthSize) return undefined;

  // Packets as [pos, size, stream index]; anything but a plain entry (pos N/A, side data such as
  // new extradata that may change the length size mid-stream) leaves us unsure.
  const packets: Array<[number, number, number]> = [];
  for (const e of l.packets) {
    if (typeof e !== 'object' || e === null) return undefined;
    const { stream_index: index } = e as Record<string, unknown>;
    if (typeof index !== 'number') return undefined;
    if (!lengthSize.has(index)) continue;
    const span = Object.keys(e).length === 3 ? packetSpan(e) : undefined;
    if (!span) return undefined;
    packets.push([...span, index]);
  }
  packets.sort((a, b) => a[0] - b[0]);

  const fd = openSync(path, dryRun ? 'r' : 'r+');
  try {
    // Each sample must lie inside a top-level mdat, apart from the others: then our writes touch
    // no box the demuxer parses and no other sample's length fields.
    const mdats = mdatPayloads(fd, fstatSync(fd).size);
    if (!mdats) return undefined;
    let m = 0;
    let prevEnd = 0;
    for (const [pos, size] of packets) {
      while (m < mdats.length && mdats[m]![1] < pos + size) m++;
      if (pos < prevEnd || m === mdats.length || pos < mdats[m]![0]) return undefined;
      prevEnd = pos + size;
    }

    const win = Buffer.alloc(4096);
    let winAt = 0;
    let winLen = 0;
    const peek = (at: number, n: number): Buffer => {
      if (at < winAt || at + n > winAt + winLen) { winLen = readSync(fd, win, 0, win.length, at); winAt = at; }
      if (at + n > winAt + winLen) throw new Error('file shrank under us');
      return win.subarray(at - winAt, at - winAt + n);
    };
    const fills: number[] = []; // flat (pos, length, 0 h264 | 1 hevc) triples: a long list stays small
    let nals = 0;
    const maxNals = Math.max(65_536, packets.length * NALS_PER_PACKET);
    for (const [pos, size, index] of packets) {
      const { codec, L } = lengthSize.get(index)!;
      const before = nals;
      const n = walkSample(peek, pos, size, L, codec, fills);
      if (n === undefined || (nals += n) > maxNals) return undefined;
      if (Math.floor(nals / 65_536) > Math.floor(before / 65_536)) await tick(); // long walks must not stall the server
    }
    if (tooManySei(fills.length / 3, packets.length)) return undefined;
    fillsOut?.push(...fills);
    if (dryRun) return fills.length / 3;

    // The whole walk succeeded: now, and only now, write. One write per unit, in file order.
    for (let i = 0; i < fills.length; i += 3) {
      writeFiller(fd, fills[i]!, fills[i + 1]!, CODEC[FILL_CODECS[fills[i + 2]!]!].header);
      if (i % 30_000 === 0) await tick();
    }
    return fills.length / 3;
  } finally {
    closeSync(fd);
  }
}

/**
 * The NAL length size of a stream, as ffmpeg's decoder reads it from its record; undefined when
 * there is no record we can be sure of (lengthSizes, below, is what the others call).
 */
function nalLengthSize(s: ProbedStream | undefined, record: { codec: string; bytes: Buffer } | undefined, codec: Codec): number | undefined {
  if (s?.codec_name !== codec || record === undefined || record.codec !== codec || record.bytes.length === 0) return undefined;
  if (codec === 'hevc') return hvccLengthSize(record.bytes);
  // The H.264 decoder sets these only from an avcC it read whole (configurationVersion 1, at
  // least 7 bytes, its SPS and PPS): is_avc, then the length size from byte 4. Annex B has none.
  return s.is_avc === 'true' && /^[124]$/.test(s.nal_length_size ?? '') && plainAvcc(record.bytes)
    && (record.bytes[4]! & 3) + 1 === Number(s.nal_length_size) ? Number(s.nal_length_size) : undefined;
}

/**
 * The NAL length size of each stream in `wanted`, by index; undefined when any has none we can be
 * sure of. Shared by the scrub, the early remux's plan and its check, so all three read alike.
 */
export function lengthSizes(
  wanted: Array<{ index: number; codec: Codec }>, streams: ProbedStream[], records: ConfigRecords | undefined,
): Map<number, { codec: Codec; L: number }> | undefined {
  const out = new Map<number, { codec: Codec; L: number }>();
  for (const { index, codec } of wanted) {
    const L = nalLengthSize(streams.find((s) => s.index === index), records?.byIndex.get(index), codec);
    if (L === undefined) return undefined;
    out.set(index, { codec, L });
  }
  return out;
}

/** Every stream's codec configuration record (ffmpeg's extradata; empty when it has none), by index. */
export interface ConfigRecords {
  byIndex: Map<number, { codec: string; bytes: Buffer }>;
  /** ffprobe said nothing at all: the SEI scrub trusts nothing less. */
  sure: boolean;
}

/**
 * Each stream's codec configuration record (avcC, hvcC, an AAC esds, an OpusHead...) as ffprobe
 * reads it with the demuxer for `sniffedExt`, checked against the length ffprobe reports; undefined
 * when the run failed or any record is unexpected. The video SEI scrub and the audio check
 * (audio-config.ts) share this one run. A run of its own: -show_data cannot go with the packet
 * list (it would hex-dump every packet).
 */
export async function configRecords(path: string, sniffedExt: string, lim: ToolLimits): Promise<ConfigRecords | undefined> {
  const r = await runTool('ffprobe', ['-v', 'error', '-hide_banner', '-of', 'json', '-show_streams', '-show_data',
    '-show_entries', 'stream=index,codec_name,extradata_size,extradata', ...inputArgs(sniffedExt, path)], lim);
  if (r.code !== 0 || r.stdout.length >= MAX_STDOUT) return undefined;
  let json: unknown;
  try { json = JSON.parse(r.stdout.toString('latin1')); } catch { return undefined; }
  const parsed = Streams.safeParse(json);
  if (!parsed.success) return undefined;
  const byIndex = new Map<number, { codec: string; bytes: Buffer }>();
  for (const s of parsed.data.streams) {
    const hex = (s.extradata ?? '').split('\n').map((l) => l.slice(10, 50).replace(/ /g, '')).join('');
    const bytes = Buffer.from(hex, 'hex');
    if (bytes.length !== (s.extradata_size ?? 0)) return undefined;
    byIndex.set(s.index, { codec: s.codec_name ?? '', bytes });
  }
  return { byIndex, sure: r.stderr === '' };
}

/** The NAL length size of each HEVC stream, from its hvcC as ffmpeg reads it; for its test. */
export async function hvccLengthSizes(path: string, indexes: number[], lim: ToolLimits): Promise<Map<number, number> | undefined> {
  const records = await configRecords(path, 'mov', lim);
  if (records === undefined || !records.sure) return undefined;
  const out = new Map<number, number>();
  for (const index of indexes) {
    const r = records.byIndex.get(index);
    const size = r?.codec === 'hevc' ? hvccLengthSize(r.bytes) : undefined;
    if (size === undefined) return undefined;
    out.set(index, size);
  }
  return out;
}

/**
 * Whether an avcC holds only what a decoder needs: version 1, its SPS units (type 7), its PPS units
 * (type 8) and, but for Baseline, Main and Extended, the 4-byte extension with its SPS-extension
 * units (type 13).
 * Anything else (an SEI filed under the SPS, bytes after the end) would be copied into the output
 * by a plain remux (review, session 5); the caller then keeps filter_units, which rewrites it.
 */
export function plainAvcc(rec: Buffer): boolean {
  if (rec.length < 7 || rec[0] !== 1) return false;
  let p = 5;
  const units = (count: number, type: number): boolean => {
    for (let i = 0; i < count; i++) {
      if (p + 2 > rec.length) return false;
      const len = rec.readUInt16BE(p);
      p += 2;
      if (len === 0 || p + len > rec.length || (rec[p]! & 0x1f) !== type) return false;
      p += len;
    }
    return true;
  };
  const sps = rec[p++]! & 0x1f;
  if (sps === 0 || !units(sps, 7) || p >= rec.length || !units(rec[p++]!, 8)) return false;
  if (p === rec.length) return true;
  // ISO 14496-15 names the high profiles; ffmpeg and x264 write the extension for every profile
  // but Baseline, Main and Extended (High 4:4:4 Predictive, 244, included).
  if ([66, 77, 88].includes(rec[1]!) || p + 4 > rec.length) return false;
  p += 3;
  return units(rec[p++]!, 13) && p === rec.length;
}

/**
 * The NAL length size (1, 2 or 4) a well-formed HEVCDecoderConfigurationRecord gives; else undefined.
 * Its length was checked against ffprobe's when it was read (configRecords).
 */
function hvccLengthSize(rec: Buffer): number | undefined {
  if (rec.length < 23 || rec[0] !== 1) return undefined;
  const size = (rec[21]! & 3) + 1;
  return size === 3 ? undefined : size; // 3 is not allowed by ISO 14496-15
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** More SEI units than real streams have: the scrub is not trusted with them, and the filter takes over. */
export function tooManySei(units: number, packets: number): boolean {
  return units > Math.max(4096, packets * SEI_PER_PACKET);
}

/**
 * Walks the length-prefixed NAL units of one sample at `pos` (`peek` reads the file at an offset) and
 * adds each SEI unit to `fills` as (offset, length, codec). The number of units, or undefined when
 * their lengths do not tile the sample exactly. Shared with the streamed blanker (video-early.ts), so
 * both find the very same units.
 */
export function walkSample(
  peek: (at: number, n: number) => Buffer, pos: number, size: number, L: number, codec: Codec, fills: number[],
  /** Given, it hears of every unit: its offset and length. */
  onUnit?: (at: number, len: number) => void,
): number | undefined {
  const c = CODEC[codec];
  let nals = 0;
  for (let p = pos, end = pos + size; p < end;) {
    if (p + L + c.header.length > end || ++nals > MAX_NALS_PER_SAMPLE) return undefined;
    const b = peek(p, L + c.header.length);
    const len = b.readUIntBE(0, L);
    if (len < c.header.length || p + L + len > end) return undefined;
    onUnit?.(p + L, len);
    if (c.isSei(b.subarray(L))) fills.push(p + L, len, FILL_CODECS.indexOf(codec));
    p += L + len;
  }
  return nals;
}

/** The codec of a fill triple: 0 H.264, 1 HEVC. */
export const FILL_CODECS: readonly Codec[] = ['h264', 'hevc'];

/**
 * Paints into `buf`, which holds the file's bytes from offset `bufAt`, the part of one filler unit
 * (at, len, codec) that falls inside it: the same bytes writeFiller puts in a file.
 */
export function paintFiller(buf: Buffer, bufAt: number, at: number, len: number, codec: number): void {
  const header = CODEC[FILL_CODECS[codec]!].header;
  const from = Math.max(at, bufAt);
  const to = Math.min(at + len, bufAt + buf.length);
  if (from >= to) return;
  buf.fill(0xff, from - bufAt, to - bufAt);
  for (let i = 0; i < header.length; i++) if (at + i >= from && at + i < to) buf[at + i - bufAt] = header[i]!;
  if (len > header.length && at + len - 1 >= from && at + len - 1 < to) buf[at + len - 1 - bufAt] = 0x80;
}

/** Filler data: the NAL header, 0xFF bytes, and a final 0x80 (the rbsp stop bit) when there is room. */
function writeFiller(fd: number, at: number, len: number, header: Buffer): void {
  for (let done = 0; done < len;) {
    const n = Math.min(len - done, 1024 * 1024);
    const b = Buffer.alloc(n, 0xff);
    if (done === 0) header.copy(b);
    if (done + n === len && len > header.length) b[n - 1] = 0x80;
    if (writeSync(fd, b, 0, n, at + done) !== n) throw new Error('short write');
    done += n;
  }
}

/** [start, end) of every top-level mdat's payload, or undefined for a layout we will not guess at. */
function mdatPayloads(fd: number, size: number): Array<[number, number]> | undefined {
  return topLevelBoxes(fd, size, MAX_TOP_BOXES)?.filter((b) => b.type === 'mdat').map((b) => [b.start + b.header, b.end]);
}
