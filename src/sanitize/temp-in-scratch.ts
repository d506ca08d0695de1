/**
 * Libraries that spill to a temporary file follow TMPDIR, and /tmp is usually on disk. libvips
 * (under sharp) decodes an animated WebP, or a still one over ~33 megapixels, into a hidden file
 * there: hundreds of MB of the tipster's pixels, with the file's EXIF appended, which the kernel
 * writes back to the disk while the file is open (review, session 11). gpg's home for the public
 * keys lives under it too. So the intake points TMPDIR at a folder inside its RAM-backed scratch,
 * before it cleans anything; libvips reads it when it first needs a temporary file.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function tempInScratch(scratchDir: string): string {
  const dir = join(scratchDir, 'tmp');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.TMPDIR = dir;
  return dir;
}
