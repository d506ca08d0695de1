/**
 * Cleans one picture found inside a document container (DOCX media/, ODT Pictures/).
 *
 * Threat: a photo pasted into a report keeps its EXIF: GPS of where it was taken, the phone's make,
 * model and serial number. Office never strips it.
 * Defence: raster pictures go through the photo cleaner (decode to pixels, re-encode). The cleaned
 * bytes keep the entry's name, so every reference in the document still holds. Anything we cannot
 * decode (EMF/WMF/SVG/SVM vector pictures, broken files) is replaced by a blank 1×1 PNG under the
 * same name: the document still opens, the picture shows as blank, and a warning says so.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import { cleanImage } from './image.ts';
import type { Scratch } from './types.ts';

const RASTER = new Set(['jpg', 'png', 'gif', 'webp', 'tif', 'bmp']);

let blank: Buffer | undefined;
async function blankPng(): Promise<Buffer> {
  blank ??= await sharp({ create: { width: 1, height: 1, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0 } } })
    .png().toBuffer();
  return blank;
}

export interface CleanedPicture {
  data: Buffer;
  /** True when the picture could not be cleaned and was replaced by a blank. */
  blanked: boolean;
  /** True when the cleaner changed the format (the name, and so the reference, stays). */
  formatChanged: boolean;
}

export async function cleanEmbeddedPicture(data: Buffer, scratch: Scratch): Promise<CleanedPicture> {
  const sniffed = await fileTypeFromBuffer(data);
  if (!sniffed || !RASTER.has(sniffed.ext)) return { data: await blankPng(), blanked: true, formatChanged: false };
  const input = scratch.path('.' + sniffed.ext);
  let output: string | undefined;
  try {
    await writeFile(input, data, { mode: 0o600 });
    const cleaned = await cleanImage(input, { ext: sniffed.ext, mime: sniffed.mime }, scratch);
    output = cleaned.path;
    return { data: await readFile(output), blanked: false, formatChanged: cleaned.ext !== sniffed.ext };
  } catch {
    return { data: await blankPng(), blanked: true, formatChanged: false };
  } finally {
    await rm(input, { force: true });
    if (output) await rm(output, { force: true });
  }
}
