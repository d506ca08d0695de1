/**
 * Photos: EXIF (GPS, make, model, serials), XMP, IPTC, comments and embedded thumbnails are dropped
 * by decoding to pixels and re-encoding. Orientation is applied to the pixels first, so the photo
 * still shows upright once the Orientation tag is gone.
 */
import sharp from 'sharp';
import { CleaningFailed } from '../errors.ts';
import type { Cleaner } from './types.ts';

/** A pixel flood (50000×50000) is refused before it is decoded. */
const MAX_PIXELS = 100_000_000;

export const cleanImage: Cleaner = async (input, sniffed, scratch) => {
  const ext = sniffed.ext === 'jpg' ? 'jpg' : sniffed.ext === 'png' ? 'png' : 'webp';
  const out = scratch.path('.' + ext);
  try {
    let img = sharp(input, { limitInputPixels: MAX_PIXELS, failOn: 'error' }).rotate();
    img = ext === 'jpg' ? img.jpeg({ quality: 92, mozjpeg: false }) : ext === 'png' ? img.png() : img.webp({ quality: 92 });
    await img.toFile(out);
  } catch (e) {
    throw new CleaningFailed({ type: sniffed.ext }, e instanceof Error ? e.message : String(e));
  }
  return { path: out, kind: 'photo', ext, report: { removed: { metadata: 1 }, warnings: [] } };
};
