/**
 * The lossless JPEG path: a photo is rewritten without being decoded, keeping only what draws it.
 *
 * Why: decoding and re-encoding a 12 MP photo costs ~0.6 s and a generation of JPEG loss (and it
 * destroys the original compression traces an editor may want to verify). Issue 3 allows a
 * metadata-only rewrite where the format allows; baseline JPEG does.
 * Threat: the same as image.ts (EXIF, GPS, XMP, IPTC, thumbnails, comments), plus what hides after
 * the end-of-image marker: Samsung motion photos, Google/MPF previews and depth maps are whole
 * second files appended there.
 * Defence: an allow-list. Output = SOI, a fresh minimal JFIF APP0, then only DQT, SOF0/SOF1, DHT,
 * DRI and the single SOS with its entropy-coded data, then EOI. Every APPn and COM segment, and
 * everything after EOI, is dropped. Anything outside that shape (progressive, arithmetic, lossless,
 * CMYK, RGB-coded, several scans, unreadable EXIF, a non-sRGB ICC profile, garbage between
 * segments, no EOI) returns undefined and the caller decodes and re-encodes instead.
 * A photo whose EXIF says "rotate" is turned by jpegtran's lossless transform (-perfect refuses
 * when the edge blocks would be lost, and we fall back), so it still shows upright with no tag.
 * Limit: the entropy-coded data is copied, not decoded, so bytes a decoder ignores inside it
 * survive; they are not something a camera or phone writes.
 */
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { Scratch } from './types.ts';
import { iccIsSrgb, newFindings, noteSegment } from './image-jpeg-appn.ts';
import { runTool } from './subprocess.ts';

/** Larger inputs go through the streaming decoder rather than into our heap. */
const MAX_BYTES = 64 * 1024 * 1024;
/** The same per-frame cap as image.ts; a larger frame is left to its refusal. */
const MAX_PIXELS = 100_000_000;

/** A fresh JFIF 1.01 APP0: aspect ratio 1:1, no thumbnail. It names no software. */
const JFIF = Buffer.from([0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

/** jpegtran's lossless transform for each EXIF orientation (2–8). */
const TRANSFORM: Record<number, string[]> = {
  2: ['-flip', 'horizontal'], 3: ['-rotate', '180'], 4: ['-flip', 'vertical'], 5: ['-transpose'],
  6: ['-rotate', '90'], 7: ['-transverse'], 8: ['-rotate', '270'],
};

export interface LosslessJpeg {
  path: string;
  removed: Record<string, number>;
}

export interface JpegRewrite {
  /** The kept segments in order, ready to concatenate. */
  parts: Buffer[];
  removed: Record<string, number>;
  orientation: number;
  width: number;
  height: number;
}

/** Parses a JPEG and plans its rewrite, or says why it cannot be rewritten losslessly. */
export function planRewrite(buf: Buffer): JpegRewrite | string {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return 'no SOI';
  const f = newFindings();
  const parts: Buffer[] = [SOI, JFIF];
  let sof: { width: number; height: number; ids: number[] } | undefined;
  let p = 2;
  for (;;) {
    if (buf[p] !== 0xff) return 'bytes between segments';
    while (buf[p] === 0xff) p++; // fill bytes
    const marker = buf[p++];
    if (marker === undefined || p + 2 > buf.length) return 'truncated';
    const len = buf.readUInt16BE(p);
    const start = p - 2;
    const end = p + len;
    if (len < 2 || end > buf.length) return 'truncated segment';
    const body = buf.subarray(p + 2, end);
    p = end;
    if (marker === 0xdb || marker === 0xc4 || marker === 0xdd) {
      if (!tablesFill(marker, body)) return 'table segment with extra bytes';
      parts.push(buf.subarray(start, end));
      continue;
    }
    if (marker === 0xc0 || marker === 0xc1) {
      if (sof || body.length < 6) return 'second or short SOF';
      const n = body[5] ?? 0;
      if (body[0] !== 8 || body.length !== 6 + 3 * n) return 'not 8-bit, or extra bytes';
      sof = { height: body.readUInt16BE(1), width: body.readUInt16BE(3), ids: [...Array(n).keys()].map((i) => body[6 + 3 * i] ?? 0) };
      parts.push(buf.subarray(start, end));
      continue;
    }
    if ((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe) {
      if (!noteSegment(f, marker, body)) return 'unreadable metadata segment';
      continue;
    }
    if (marker !== 0xda) return `marker ${marker.toString(16)}`; // progressive, arithmetic, DNL, ...
    if (!sof) return 'scan before frame';
    if (body.length !== 4 + 2 * (body[0] ?? 0)) return 'scan header with extra bytes';
    const eoi = scanEnd(buf, end);
    if (eoi < 0) return 'no EOI after the first scan';
    parts.push(buf.subarray(start, eoi), EOI);
    if (eoi + 2 < buf.length) f.removed.trailer = 1;
    const colour = colourProblem(sof.ids, f.adobeTransform, f.icc);
    if (colour) return colour;
    if (sof.width === 0 || sof.height === 0 || sof.width * sof.height > MAX_PIXELS) return 'size';
    return { parts, removed: f.removed, orientation: f.orientation, width: sof.width, height: sof.height };
  }
}

/**
 * True when a DQT, DHT or DRI segment is exactly its tables, byte for byte. The segments we copy must
 * have no room left over: a length that runs past the tables could carry anything into the output.
 */
function tablesFill(marker: number, body: Buffer): boolean {
  if (marker === 0xdd) return body.length === 2;
  let p = 0;
  while (p < body.length) {
    const head = body[p] ?? 0;
    if (marker === 0xdb) p += 1 + (head >> 4 ? 128 : 64);
    else {
      if (p + 17 > body.length) return false;
      let symbols = 0;
      for (let i = 1; i <= 16; i++) symbols += body[p + i] ?? 0;
      p += 17 + symbols;
    }
  }
  return p === body.length;
}

/**
 * Finds the EOI that ends the entropy-coded data starting at `from`: 0xFF00 is a stuffed byte and
 * RST0–7 are restart markers inside it. Returns -1 when another marker (a second scan) or nothing comes.
 */
function scanEnd(buf: Buffer, from: number): number {
  let p = from;
  for (;;) {
    const ff = buf.indexOf(0xff, p);
    if (ff < 0 || ff + 1 >= buf.length) return -1;
    const next = buf[ff + 1] ?? 0;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) { p = ff + 2; continue; }
    if (next === 0xff) { p = ff + 1; continue; }
    return next === 0xd9 ? ff : -1;
  }
}

/** Why dropping the APPn segments would change the colours, if it would. */
function colourProblem(ids: number[], adobeTransform: number | undefined, icc: Buffer[]): string | undefined {
  if (ids.length === 3) {
    // With JFIF, decoders read three components as YCbCr. Adobe transform 0 or ids 'R','G','B' mean RGB.
    if (adobeTransform === 0 || ids.join() === '82,71,66') return 'RGB-coded';
  } else if (ids.length !== 1) {
    return 'not greyscale or YCbCr'; // CMYK/YCCK need the Adobe marker we would drop
  }
  if (icc.length > 0 && !iccIsSrgb(icc)) return 'non-sRGB profile';
  return undefined;
}

/**
 * Cleans a JPEG losslessly when it can. Returns undefined (having written nothing that stays) when the
 * caller must decode and re-encode instead.
 */
export async function cleanJpegLossless(input: string, scratch: Scratch): Promise<LosslessJpeg | undefined> {
  if ((await stat(input)).size > MAX_BYTES) return undefined;
  const plan = planRewrite(await readFile(input));
  if (typeof plan === 'string') return undefined;
  const out = scratch.path('.jpg');
  await writeFile(out, Buffer.concat(plan.parts), { mode: 0o600 });
  if (plan.orientation === 1) return { path: out, removed: plan.removed };

  // jpegtran reads only our minimal rewrite, never the tipster's metadata or trailer.
  const turned = scratch.path('.jpg');
  const transform = TRANSFORM[plan.orientation] ?? [];
  const r = await runTool('jpegtran', ['-copy', 'none', '-perfect', ...transform, '-outfile', turned, out], {
    timeoutMs: 60_000, memoryBytes: 1024 ** 3, cpuSeconds: 60, fileBytes: MAX_BYTES * 2,
  }).catch(() => undefined);
  await rm(out, { force: true });
  if (r?.code !== 0) { // not MCU-aligned (or no jpegtran): decode instead
    await rm(turned, { force: true });
    return undefined;
  }
  return { path: turned, removed: { ...plan.removed, orientation_applied: 1 } };
}
