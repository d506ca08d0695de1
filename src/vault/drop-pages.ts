/**
 * Drops a vault file's pages from the page cache once they are on disk.
 *
 * Why: a sealed video is written once and hardly read again here (delivery hard-links it, or reads
 * it once to copy it), yet its pages stay cached: a 2 GiB tip takes 2 GiB of memory the kernel must
 * find, and on a virtual machine, memory not touched for a few seconds has been handed back to the
 * host and is slow to touch again. Dropping what was flushed lets the next flush reuse the same
 * memory: the remux-and-seal stage of a 2 GiB video went from ~15 s to ~10.5 s (BENCHMARKS.md,
 * round 7).
 * How: `dd iflag=nocache count=0` is coreutils' documented way to call posix_fadvise(DONTNEED) on a
 * whole file (Node has no binding); it reads nothing. Only clean pages are dropped, so the caller
 * drops after an fdatasync. Best effort: a missing dd or any error only means the pages stay cached.
 */
import { execFile } from 'node:child_process';

export function dropPages(path: string): Promise<void> {
  return new Promise((resolve) => {
    execFile('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } }, () => resolve());
  });
}
