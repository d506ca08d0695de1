/**
 * Libraries that spill to a temporary file follow TMPDIR, and /tmp is usually on disk. libvips
 * (under sharp) decodes an animated WebP, or a still one over ~33 megapixels, into a hidden file
 * there: hundreds of MB of the tipster's pixels, with the file's EXIF appended, which the kernel
 * writes back to the disk while the file is open (review, session 11). gpg's home for the public
 * keys lives under it too. So the intake points TMPDIR at a folder inside its RAM-backed scratch,
 * before it cleans anything; libvips reads TMPDIR each time it makes a temporary file.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** gpg homes: swept by seal-gpg.ts once their owner is gone, never here (one may be alive). */
const GPG_HOME = /^buzon-gnupg-/;

export function tempInScratch(scratchDir: string): string {
  const dir = join(scratchDir, 'tmp');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // What a crash left here (libvips's files have no name, but a library's named one would) is
  // someone's plaintext: removed before anything else starts.
  for (const name of readdirSync(dir)) if (!GPG_HOME.test(name)) rmSync(join(dir, name), { recursive: true, force: true });
  process.env.TMPDIR = dir;
  return dir;
}
