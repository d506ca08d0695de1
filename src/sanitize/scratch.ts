/**
 * RAM-backed scratch space for the few tools that need a seekable file (ffmpeg on MP4, sharp, zip).
 *
 * Threat: plaintext written to a disk can be recovered forensically long after it is deleted.
 * Defence: scratch lives on tmpfs, and we refuse to start when it does not, unless the operator has
 * said otherwise explicitly (SCRATCH_ALLOW_DISK). Names are random; no tipster-chosen byte is ever
 * part of a path. Limit: tmpfs can be swapped out; run without swap or with encrypted swap.
 */
import { randomBytes } from 'node:crypto';
import { close, closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Scratch } from './types.ts';

export function createScratch(dir: string): Scratch {
  return {
    path(suffix = '') {
      return join(dir, randomBytes(12).toString('hex') + suffix);
    },
  };
}

/** Names createScratch makes, and what tools derive from them (pdftoppm's `<name>-1.png`). */
const OURS = /^[0-9a-f]{24}([.-]|$)/;

/** The filesystem type of the mount that holds `dir`, read from /proc/self/mounts. */
export function filesystemOf(dir: string): string {
  const target = resolve(dir);
  let best = { mount: '', type: '' };
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [, mount, type] = line.split(' ');
    if (!mount || !type) continue;
    const m = mount.replace(/\\040/g, ' ');
    if ((target === m || target.startsWith(m.endsWith('/') ? m : m + '/')) && m.length >= best.mount.length) {
      best = { mount: m, type };
    }
  }
  return best.type;
}

/**
 * Make the folder, check it is RAM-backed, and remove what a crash of ours left in it. Only names we
 * make are removed: SCRATCH_DIR set to a shared folder (/dev/shm itself) once emptied all of it,
 * other programs' files included.
 */
export function prepareScratch(dir: string, allowDisk: boolean): Scratch {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fs = filesystemOf(dir);
  if (fs !== 'tmpfs' && fs !== 'ramfs' && !allowDisk) {
    throw new Error(
      `SCRATCH_DIR ${dir} is on ${fs || 'an unknown filesystem'}, not tmpfs: plaintext would touch disk. ` +
        'Point SCRATCH_DIR at a tmpfs (such as /dev/shm/buzon), or set SCRATCH_ALLOW_DISK=1 if the disk is encrypted and you accept the risk.',
    );
  }
  for (const name of readdirSync(dir)) if (OURS.test(name)) rmSync(join(dir, name), { recursive: true, force: true });
  return createScratch(dir);
}

/**
 * Removes a scratch file's name at once, and gives its RAM back off the event loop. Unlinking a
 * 1 GiB tmpfs file frees its pages in the same call, ~0.15 s of kernel time that the tipster would
 * wait for before their receipt (BENCHMARKS.md, round 11). Here the name goes now, synchronously,
 * so nothing can open the plaintext again, and the pages go when our last descriptor is closed, in
 * a thread-pool thread. The promise says when they are free; it never rejects. A regular file whose
 * name cannot be removed throws at once, as rmSync would.
 */
export function removeScratch(path: string): Promise<void> {
  let fd: number;
  try {
    // Never blocks and never follows a link: a path here is always one of our files, but a FIFO
    // put in its place would otherwise hold the event loop until someone wrote to it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw new Error('not a file');
    }
  } catch {
    // Gone already, or no descriptor to spare (EMFILE): removed in the thread pool, so that its
    // pages, if any, are not freed on the event loop. A failure is left to the route's cleanup,
    // which removes every scratch path of the tip again.
    return rm(path, { force: true }).catch(() => undefined);
  }
  try {
    rmSync(path, { force: true });
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return new Promise((resolve) => close(fd, () => resolve()));
}
