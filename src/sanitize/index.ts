/**
 * Picks the one cleaner for a file by the type sniffed from its content. A type with no cleaner is
 * refused: an uncleaned file is never passed on silently.
 */
import { fileTypeFromFile } from 'file-type';
import { UnsupportedType } from '../errors.ts';
import type { Cleaner, Sniffed, StreamCleaner } from './types.ts';
import { cleanImage } from './image.ts';
import { cleanVideo } from './video.ts';
import { STREAMED, cleanVideoStream } from './video-stream.ts';
import { cleanAudio } from './audio.ts';
import { cleanPdf } from './pdf.ts';
import { cleanOffice } from './office.ts';
import { cleanOdf } from './odf.ts';

/** Keyed by the extension file-type reports. */
const CLEANERS: Record<string, Cleaner> = {
  // photos
  jpg: cleanImage, png: cleanImage, webp: cleanImage, gif: cleanImage, tif: cleanImage,
  heic: cleanImage, avif: cleanImage, apng: cleanImage, // APNG: delivered as animated WebP (image-apng.ts)
  // video
  mp4: cleanVideo, mov: cleanVideo, m4v: cleanVideo, '3gp': cleanVideo, webm: cleanVideo,
  mkv: cleanVideo, avi: cleanVideo,
  // audio, mostly voice notes
  ogg: cleanAudio, opus: cleanAudio, oga: cleanAudio, m4a: cleanAudio, mp3: cleanAudio,
  wav: cleanAudio, amr: cleanAudio, flac: cleanAudio, aac: cleanAudio,
  // documents
  pdf: cleanPdf,
  docx: cleanOffice, xlsx: cleanOffice, pptx: cleanOffice,
  odt: cleanOdf, ods: cleanOdf,
};

/** The kinds we take, for the 415 message and the form. */
export const ACCEPTED_EXTENSIONS = Object.keys(CLEANERS);

export async function sniff(path: string): Promise<Sniffed | undefined> {
  const t = await fileTypeFromFile(path);
  return t ? { ext: t.ext, mime: t.mime } : undefined;
}

export function cleanerFor(sniffed: Sniffed | undefined): Cleaner {
  const c = sniffed ? CLEANERS[sniffed.ext] : undefined;
  if (!c) throw new UnsupportedType({ type: sniffed?.ext ?? 'unknown' });
  return c;
}

/** The streaming cleaner for a type, when it has one: its output goes straight into the seal. */
export function streamCleanerFor(sniffed: Sniffed): StreamCleaner | undefined {
  return STREAMED.has(sniffed.ext) ? cleanVideoStream : undefined;
}
