/**
 * The filesystem vault. Drafts live in .drafts/<tipId>/, each file fsynced; commit fsyncs the
 * folder and renames it into tips/, which is atomic on one filesystem. File times are set to the
 * start of the day, so the vault does not record when a tip arrived to the second.
 */
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { close, closeSync, createReadStream, fdatasync, fstat, fsync, futimes, futimesSync, mkdirSync, openSync, renameSync, rmdirSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { dayOf } from '../crypto/seal.ts';
import { SEALED_NAME, TIP_ID, type SealedFile, type TipDraft, type Vault } from './vault.ts';
import { DirSync, fsyncPath } from './dir-sync.ts';
import { DROP_EVERY, dropPages } from './drop-pages.ts';

const SYNC_EVERY = 64 * 1024 * 1024;
const [fstatP, fdatasyncP, fsyncP, futimesP, closeP] = [promisify(fstat), promisify(fdatasync), promisify(fsync), promisify(futimes), promisify(close)];
/** How often putFromFd looks at how much its writer has added. */
const FLUSH_POLL_MS = 100;

/** fdatasync up to `upTo` bytes, then the pages dropped when DROP_EVERY more were flushed since the last drop. */
async function flush(fd: number, upTo: number, last: { dropped: number }): Promise<void> {
  await fdatasyncP(fd);
  if (upTo - last.dropped >= DROP_EVERY) {
    last.dropped = upTo;
    await dropPages(fd);
  }
}

function checkIds(tipId: string, name?: string): void {
  if (!TIP_ID.test(tipId)) throw new Error('bad tip id');
  if (name !== undefined && !SEALED_NAME.test(name)) throw new Error('bad sealed file name');
}

export class FsVault implements Vault {
  private readonly drafts: string;
  private readonly tips: string;
  /** tips/ is fsynced once for all the commits and removals made while the previous fsync ran. */
  readonly tipsSync: DirSync;

  constructor(root: string) {
    this.drafts = join(root, '.drafts');
    this.tips = join(root, 'tips');
    this.tipsSync = new DirSync(this.tips);
  }

  async init(): Promise<this> {
    await mkdir(this.drafts, { recursive: true, mode: 0o700 });
    await mkdir(this.tips, { recursive: true, mode: 0o700 });
    return this;
  }

  async begin(tipId: string): Promise<TipDraft> {
    checkIds(tipId);
    const dir = join(this.drafts, tipId);
    // Folder and name changes are made with synchronous calls: each takes microseconds in the page
    // cache, while the promise API's thread-pool round trip cost ~80 µs of CPU per call here and a
    // context switch on two busy cores (BENCHMARKS.md, round 5). Only the fsyncs, which wait on the
    // disk, leave the event loop.
    mkdirSync(dir, { mode: 0o700 });
    const day = dayOf(new Date());
    const finalDir = join(this.tips, tipId);
    const { tipsSync } = this;
    return {
      async put(name: string, sealed: Readable): Promise<SealedFile> {
        checkIds(tipId, name);
        const path = join(dir, name);
        // Flushed to disk as it is written, so the final fsync of a 2 GiB video is short and a
        // note-only tip's fsync does not wait behind gigabytes of unwritten pages. Each flush runs
        // while the next 64 MiB are written (at most one at a time): waiting for it stalled the
        // whole pipe back to ffmpeg, ~1 s per GiB (BENCHMARKS.md, round 4). Once on disk, a big
        // file's pages leave the page cache, every DROP_EVERY bytes and at the end (drop-pages.ts).
        const fh = await open(path, 'wx', 0o600);
        let size = 0;
        let flushing: Promise<void> = Promise.resolve();
        try {
          let unsynced = 0;
          const drops = { dropped: 0 };
          for await (const chunk of sealed) {
            const bytes = chunk as Uint8Array;
            await fh.write(bytes);
            size += bytes.length;
            unsynced += bytes.length;
            if (unsynced >= SYNC_EVERY) {
              await flushing;
              flushing = flush(fh.fd, size, drops);
              unsynced = 0;
            }
          }
          await flushing;
          await fh.utimes(day, day);
          await fh.sync();
          if (size >= SYNC_EVERY) await dropPages(fh.fd);
        } finally {
          await flushing.catch(() => {});
          await fh.close();
        }
        return { name, size };
      },
      async putBytes(name: string, sealed: Uint8Array): Promise<SealedFile> {
        checkIds(tipId, name);
        const fd = openSync(join(dir, name), 'wx', 0o600);
        try {
          for (let at = 0; at < sealed.length;) at += writeSync(fd, sealed, at);
          futimesSync(fd, day, day);
          await fsyncP(fd);
        } finally {
          closeSync(fd);
        }
        return { name, size: sealed.length };
      },
      async putFromFd(name: string, write: (fd: number) => Promise<void>): Promise<SealedFile> {
        checkIds(tipId, name);
        const path = join(dir, name);
        // Opened and handed over without yielding to the event loop: the writer may be passing on
        // a pipe that must not be read from meanwhile (seal-gpg.ts).
        const fd = openSync(path, 'wx', 0o600);
        let writing = true;
        const written = write(fd).finally(() => { writing = false; });
        try {
          // The same flushing as put(): every 64 MiB the writer adds is flushed while it writes on,
          // and dropped from the page cache every DROP_EVERY bytes.
          let flushed = 0;
          const drops = { dropped: 0 };
          while (writing) {
            await Promise.race([written.catch(() => {}), sleep(FLUSH_POLL_MS)]);
            const { size } = await fstatP(fd);
            if (writing && size - flushed >= SYNC_EVERY) {
              await flush(fd, size, drops);
              flushed = size;
            }
          }
          await written;
          await futimesP(fd, day, day);
          await fsyncP(fd);
          const { size } = await fstatP(fd);
          if (size >= SYNC_EVERY) await dropPages(fd);
          return { name, size };
        } finally {
          await closeP(fd);
        }
      },
      async commit() {
        // Times first: a folder keeps them through the rename, and the fsync then covers them.
        utimesSync(dir, day, day);
        await fsyncPath(dir);
        renameSync(dir, finalDir);
        // Only an fsync of tips/ begun after this rename counts (see dir-sync.ts).
        await tipsSync.sync();
      },
      async abort() {
        await rm(dir, { recursive: true, force: true });
      },
    };
  }

  async list(): Promise<string[]> {
    const names = (await readdir(this.tips)).filter((n) => TIP_ID.test(n));
    return names.sort();
  }

  async files(tipId: string): Promise<SealedFile[]> {
    checkIds(tipId);
    const dir = join(this.tips, tipId);
    const out: SealedFile[] = [];
    for (const name of (await readdir(dir)).filter((n) => SEALED_NAME.test(n)).sort()) {
      out.push({ name, size: (await stat(join(dir, name))).size });
    }
    return out;
  }

  localPath(tipId: string, name: string): string {
    checkIds(tipId, name);
    return join(this.tips, tipId, name);
  }

  open(tipId: string, name: string): Readable {
    checkIds(tipId, name);
    return createReadStream(join(this.tips, tipId, name), { highWaterMark: 1024 * 1024 });
  }

  async remove(tipId: string, names: string[] = []): Promise<void> {
    checkIds(tipId);
    const dir = join(this.tips, tipId);
    // The known files first, then the folder: two calls per file instead of rm -r's walk. A folder
    // that is not empty after that (a file we were not told of) or already gone is left to rm.
    try {
      for (const name of names) {
        checkIds(tipId, name);
        try {
          unlinkSync(join(dir, name));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
      rmdirSync(dir);
    } catch {
      await rm(dir, { recursive: true, force: true });
    }
    await this.tipsSync.sync();
  }

  async sweepDrafts(): Promise<number> {
    const names = await readdir(this.drafts);
    for (const n of names) await rm(join(this.drafts, n), { recursive: true, force: true });
    return names.length;
  }
}
