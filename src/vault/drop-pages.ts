/**
 * Drops a vault file's pages from the page cache once they are on disk.
 *
 * Why: a sealed video is written once and hardly read again here (delivery hard-links it, or reads
 * it once to copy it), yet its pages stay cached: a 2 GiB tip takes 2 GiB of memory the kernel must
 * find, and on a virtual machine, memory not touched for a few seconds has been handed back to the
 * host and is slow to touch again. Dropping what was flushed lets the rest of the file reuse the
 * same memory: the remux-and-seal stage of a 2 GiB video went from ~15 s to ~10.5 s (BENCHMARKS.md,
 * round 7).
 * How: `dd iflag=nocache count=0` is coreutils' way to call posix_fadvise(DONTNEED) on a whole file
 * (Node has no binding); it reads nothing. It gets the file as its stdin, so no path (which names
 * the tip) appears in a process list or an audit log. Only clean pages are dropped, so callers drop
 * after an fdatasync. Each drop forks a process (1–20 ms of the event loop), hence one per DROP_EVERY.
 * Best effort: a missing dd, a failed fork or a dd that hangs only means the pages stay cached.
 */
import { spawn } from 'node:child_process';

/** Flushed bytes between two drops: few forks per video, and memory reused within a second or so. */
export const DROP_EVERY = 128 * 1024 * 1024;
const TIMEOUT_MS = 10_000;

export function dropPages(fd: number): Promise<void> {
  return new Promise((resolve) => {
    try {
      // if=/proc/self/fd/0 opens the file afresh: dd advises from its input's offset to the end,
      // and the offset of the descriptor we hand it is the end of what was written.
      const dd = spawn('dd', ['if=/proc/self/fd/0', 'iflag=nocache', 'count=0', 'status=none'], {
        stdio: [fd, 'ignore', 'ignore'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
        timeout: TIMEOUT_MS,
        killSignal: 'SIGKILL',
      });
      dd.on('error', () => resolve());
      dd.on('close', () => resolve());
    } catch {
      resolve();
    }
  });
}
