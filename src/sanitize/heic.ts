/**
 * iPhone photos (HEIC) decoded to plain pixels by libheif's heif-convert, in a child process.
 *
 * Why a child: our sharp build cannot decode HEVC, and a HEVC decoder is a large attack surface for a
 * crafted file; under prlimit, an exploit or a memory bomb costs a child, not the tip line.
 * Orientation: HEIF puts rotation and mirroring in irot/imir boxes, which libheif applies while
 * decoding. The EXIF Orientation an iPhone also writes only repeats them, so the caller must NOT
 * rotate again by EXIF (that is what libvips does for HEIF too). The PNG heif-convert writes still
 * carries the EXIF, XMP and ICC of the original; the caller re-encodes it without them.
 * Limit: only the primary image is kept; bursts, depth maps and Live Photo stills are dropped.
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CleaningFailed } from '../errors.ts';
import { runTool } from './subprocess.ts';
import type { Scratch } from './types.ts';

export interface DecodedHeic {
  /** A PNG of the primary image, upright, in scratch. */
  png: string;
  /** A private folder in scratch holding everything heif-convert wrote; the caller deletes it. */
  folder: string;
}

export async function decodeHeic(input: string, scratch: Scratch): Promise<DecodedHeic> {
  // A private folder, because a burst makes heif-convert write one file per image.
  const folder = scratch.path('.heic-decode');
  mkdirSync(folder, { mode: 0o700 });
  const png = join(folder, 'photo.png');
  const size = statSync(input).size;
  const r = await runTool('heif-convert', ['--quiet', input, png], {
    timeoutMs: 60_000 + Math.ceil(size / (1024 * 1024)) * 2_000,
    memoryBytes: 1536 * 1024 ** 2,
    cpuSeconds: 120,
    // A 100-megapixel 16-bit RGBA PNG is about 800 MB uncompressed; heif-convert compresses it.
    fileBytes: 1024 ** 3,
  });
  // With several top-level images heif-convert numbers its outputs; the first is the primary.
  const primary = [png, join(folder, 'photo-1.png')].find((p) => existsSync(p));
  if (r.code !== 0 || !primary) {
    rmSync(folder, { recursive: true, force: true });
    throw new CleaningFailed({ type: 'heic' }, 'heif-convert could not decode the photo');
  }
  return { png: primary, folder };
}
