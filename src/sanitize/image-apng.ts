/**
 * Animated PNG (APNG): delivered as an animated WebP, because our decoder cannot keep its frames.
 *
 * Why: sharp (libvips with libpng/libspng) reads only an APNG's default image, so the photo cleaner
 * alone would deliver a still where the tipster sent an animation (issue 3: animation is kept).
 * Threat: the same chunks as any PNG (tEXt/iTXt/zTXt, eXIf, tIME) plus whatever the frames' fcTL
 * and fdAT chunks are made to carry. Defence: ffmpeg (a child under prlimit, no network protocols)
 * reads a copy that keeps only the chunks that draw frames (an allow-list: ffmpeg 5.1's APNG demuxer
 * also stops at the text chunks exiftool writes), decodes every frame and writes a lossless
 * animated WebP with no metadata; that file then goes
 * through the ordinary photo cleaner (size limits, re-encode), and the editors are told.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { CleaningFailed } from '../errors.ts';
import { runTool } from './subprocess.ts';
import type { Scratch } from './types.ts';

export const APNG_WARNING = 'animated PNG delivered as animated WebP';

/** Chunks that draw the frames. Everything else (text, eXIf, tIME, iCCP, private chunks) is left out. */
const FRAME_CHUNKS = new Set(['IHDR', 'PLTE', 'tRNS', 'acTL', 'fcTL', 'IDAT', 'fdAT', 'IEND']);
const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** The PNG with only its frame chunks, CRCs untouched; undefined when its chunk layout is broken. */
export function frameChunksOnly(png: Buffer): Buffer | undefined {
  if (!png.subarray(0, 8).equals(SIGNATURE)) return undefined;
  const kept: Buffer[] = [SIGNATURE];
  for (let p = 8; p < png.length;) {
    if (p + 12 > png.length) return undefined;
    const end = p + 12 + png.readUInt32BE(p);
    if (end > png.length) return undefined;
    const type = png.toString('latin1', p + 4, p + 8);
    if (FRAME_CHUNKS.has(type)) kept.push(png.subarray(p, end));
    if (type === 'IEND') return Buffer.concat(kept); // anything after IEND is dropped too
    p = end;
  }
  return undefined;
}

/** Writes the APNG's frames as a lossless animated WebP in scratch and returns its path. */
export async function apngToWebp(input: string, scratch: Scratch): Promise<string> {
  const frames = frameChunksOnly(readFileSync(input));
  if (!frames) throw new CleaningFailed({ type: 'apng' }, 'broken PNG chunks');
  const stripped = scratch.path('.png');
  writeFileSync(stripped, frames, { mode: 0o600 });
  const out = scratch.path('.webp');
  const mib = Math.ceil(statSync(input).size / (1024 * 1024));
  const r = await runTool('ffmpeg', [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-xerror',
    '-protocol_whitelist', 'file,pipe', '-f', 'apng', '-i', stripped,
    '-map', '0:v:0', '-map_metadata', '-1', '-fflags', '+bitexact',
    '-c:v', 'libwebp_anim', '-lossless', '1', '-loop', '0', '-f', 'webp', out,
  ], { timeoutMs: 120_000 + mib * 2_000, cpuSeconds: 120 + mib * 4, memoryBytes: 1536 * 1024 ** 2, fileBytes: (mib * 20 + 64) * 1024 ** 2 })
    .finally(() => rmSync(stripped, { force: true }));
  if (r.code !== 0) {
    rmSync(out, { force: true });
    throw new CleaningFailed({ type: 'apng' }, 'could not decode the animated PNG');
  }
  return out;
}
