/**
 * Photos: JPEG, PNG, WebP, GIF, TIFF, HEIC and AVIF.
 *
 * Threat: a photo straight off a phone names its maker, model and serial, where and when it was
 * taken, and who owns the camera (EXIF, XMP, IPTC, Photoshop IRB, maker notes), and may carry an
 * embedded thumbnail of the uncropped original. Editing apps add comments, PNG text chunks and
 * times. Any of these can identify a tipster.
 * Defence: we never edit metadata in place (a parser we did not write decides what "all" is). We
 * decode to pixels and encode a new file that has nothing but pixels, except for plain baseline
 * JPEGs, which image-jpeg-lossless.ts rebuilds from an allow-list of segments without decoding. Orientation is applied to the
 * pixels first, so a portrait photo still shows upright once the Orientation tag is gone, and colours
 * are converted to sRGB so that dropping a camera's profile does not shift them.
 * Limits: only the first page of a multi-page TIFF, and the primary image of a HEIC, survive;
 * anything hidden in the pixels themselves (a visible face, a reflection, steganography) does not
 * go away. A pixel flood (a small file that decodes to gigabytes) is refused before decoding.
 */
import { rmSync } from 'node:fs';
import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';
import { CleaningFailed } from '../errors.ts';
import type { Cleaner } from './types.ts';
import { decodeHeic } from './heic.ts';
import { inventory } from './image-inventory.ts';
import { cleanJpegLossless } from './image-jpeg-lossless.ts';
import { APNG_WARNING, apngToWebp } from './image-apng.ts';

/** One frame larger than this (about a 12000×8000 photo) is refused before it is decoded. */
const MAX_PIXELS = 100_000_000;
/** All frames of an animation together; a GIF may be tiny on disk and huge in memory. */
const MAX_ANIMATION_PIXELS = 400_000_000;

/** The format we deliver for each sniffed type. HEIC becomes JPEG: few editors' tools open HEIC. */
const OUTPUT: Record<string, 'jpg' | 'png' | 'webp' | 'gif' | 'tif' | 'avif'> = {
  jpg: 'jpg', png: 'png', webp: 'webp', gif: 'gif', tif: 'tif', avif: 'avif', heic: 'jpg', apng: 'webp',
};

export const cleanImage: Cleaner = async (input, sniffed, scratch) => {
  const fail = (reason: string): CleaningFailed => new CleaningFailed({ type: sniffed.ext }, reason);
  const ext = OUTPUT[sniffed.ext];
  if (!ext) throw fail('not a photo type');
  if (sniffed.ext === 'jpg') {
    // Most phone JPEGs can be rewritten without decoding: ~20× faster and no generation loss.
    // Any surprise in the fast path (a parser bug on a hostile file) falls back to decoding, never through.
    const lossless = await cleanJpegLossless(input, scratch).catch(() => undefined);
    if (lossless) return { path: lossless.path, kind: 'photo', ext, report: { removed: lossless.removed, warnings: [] } };
  }

  if (sniffed.ext === 'apng') {
    // Refuse a pixel flood from the header before ffmpeg decodes a single frame.
    const header = await readHeader(input, false).catch(() => { throw fail('not a PNG'); });
    if ((header.width ?? 0) * (header.height ?? 0) > MAX_PIXELS) throw fail('pixel flood');
    const webp = await apngToWebp(input, scratch);
    try {
      const cleaned = await cleanImage(webp, { ext: 'webp', mime: 'image/webp' }, scratch);
      const removed = { ...(await inventory(input)), ...cleaned.report.removed };
      return { ...cleaned, report: { removed, warnings: [APNG_WARNING, ...cleaned.report.warnings] } };
    } finally {
      rmSync(webp, { force: true });
    }
  }

  const removed = await inventory(input);
  const warnings: string[] = [];
  let decoded: string = input;
  let heicFolder: string | undefined;
  if (sniffed.ext === 'heic') {
    const heic = await decodeHeic(input, scratch);
    decoded = heic.png;
    heicFolder = heic.folder;
    warnings.push('HEIC delivered as JPEG');
  }

  const out = scratch.path('.' + ext);
  try {
    const meta = await readHeader(decoded, sniffed.ext === 'gif' || sniffed.ext === 'webp');
    const pages = meta.pages ?? 1;
    const frame = (meta.width ?? 0) * (meta.pageHeight ?? meta.height ?? 0);
    if (frame > MAX_PIXELS || frame * pages > MAX_ANIMATION_PIXELS) throw fail('pixel flood');
    if (frame === 0) throw fail('no pixels');
    if (sniffed.ext === 'tif' && pages > 1) warnings.push(`only the first of ${pages} TIFF pages was kept`);
    if (meta.icc) removed.icc_converted = 1;

    const animated = pages > 1 && (ext === 'gif' || ext === 'webp');
    let img = sharp(decoded, { limitInputPixels: MAX_PIXELS, failOn: 'error', animated });
    // HEIF (HEIC, AVIF) is already upright once libheif has applied its irot/imir boxes; rotating
    // again by the EXIF copy of the orientation would turn an iPhone portrait sideways.
    const heif = sniffed.ext === 'heic' || sniffed.ext === 'avif';
    if (!heif && !animated) img = img.autoOrient();
    if (!heif && (meta.orientation ?? 1) > 1) removed.orientation_applied = 1;
    // No withMetadata/keepMetadata: sharp then writes no EXIF, XMP, IPTC or ICC, and converts to sRGB.
    await encode(img, ext, meta).toFile(out);
  } catch (e) {
    rmSync(out, { force: true });
    if (e instanceof CleaningFailed) throw e;
    throw fail(e instanceof Error ? e.message : 'decode failed');
  } finally {
    if (heicFolder) rmSync(heicFolder, { recursive: true, force: true });
  }
  return { path: out, kind: 'photo', ext, report: { removed, warnings } };
};

/** Reads only the header: sizes, page count and what metadata blocks exist. Decodes no pixels. */
async function readHeader(path: string, animated: boolean): Promise<Metadata> {
  return sharp(path, { limitInputPixels: false, failOn: 'error', animated }).metadata();
}

function encode(img: Sharp, ext: string, meta: Metadata): Sharp {
  switch (ext) {
    case 'jpg':
      // Keep full chroma when the camera had it; text and screenshots smear at 4:2:0.
      return img.jpeg({ quality: 92, chromaSubsampling: meta.chromaSubsampling === '4:4:4' ? '4:4:4' : '4:2:0', mozjpeg: false });
    case 'png':
      return img.png({ compressionLevel: 6 });
    case 'webp':
      return img.webp({ quality: 92, effort: 4 });
    case 'gif':
      return img.gif({ reuse: true });
    case 'tif':
      return img.tiff({ compression: 'lzw' });
    case 'avif':
      return img.avif({ quality: 80, chromaSubsampling: '4:4:4' });
    default:
      throw new CleaningFailed({ type: ext }, 'no encoder');
  }
}
