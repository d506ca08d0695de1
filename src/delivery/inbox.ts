/**
 * Delivers a sealed tip to INBOX_DIR/<tipId>/, exactly once. Files are placed in a hidden staging
 * folder, made durable, and the folder is renamed into place: editors see a whole tip or none. A
 * retried job that finds the tip already delivered does nothing but finish the vault clean-up.
 *
 * The same tip can be worked on twice at once: BullMQ hands a job to a second worker when the first
 * one's lock lapses (a worker that was SIGKILLed, or a Redis restart that lost the lock key while the
 * first worker is still copying), and several workers may share one inbox. So each attempt stages in
 * its own folder (.staging-<tipId>-<nonce>), only its owner ever renames it, and a rename onto a
 * delivered tip fails (the folder is never empty) instead of mixing two attempts' files.
 *
 * When the vault is on the same filesystem as the inbox, a sealed file is hard-linked into staging,
 * not copied: the vault's copy was fsynced before the tip was acknowledged and is never written
 * again, so the link needs only its folder's fsync, and a 1 GiB video is not written a second time.
 * The vault's name is removed after delivery; the inbox's name keeps the file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, createWriteStream, fsync, futimesSync, linkSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
import { copyFile, readdir, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { dayOf } from '../crypto/seal.ts';
import { TIP_ID, type Vault } from '../vault/vault.ts';
import { DirSync } from '../vault/dir-sync.ts';
import type { TipJob } from '../queue/tips.ts';

/*
 * Names are made, linked, renamed and checked with synchronous calls: each takes microseconds in the
 * page cache, where the promise API's thread-pool round trip costs ~80 µs of CPU and a context switch
 * (BENCHMARKS.md, round 5). Only fsyncs and copies, which wait on the disk, leave the event loop.
 */
const fsyncFd = promisify(fsync);

function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}

export class VaultMismatch extends Error {}

const STAGING = /^\.staging-([a-f0-9]{32})(-[a-f0-9]+)?$/;
const TRASH = /^\.trash-[a-f0-9]+$/;

/**
 * Removes a staging folder without ever letting its owner deliver half of it: the folder is first
 * renamed away (atomic), so an owner still copying finds its rename failing and retries, rather than
 * renaming a folder that `rm -r` has half emptied. Returns false when the folder was already gone.
 */
async function discard(inboxDir: string, name: string): Promise<boolean> {
  const trash = join(inboxDir, `.trash-${randomBytes(8).toString('hex')}`);
  try {
    renameSync(join(inboxDir, name), trash);
  } catch {
    return false;
  }
  await rm(trash, { recursive: true, force: true });
  return true;
}

/** Staging folders of other attempts at this tip: dead ones, or live duplicates that will retry. */
async function discardStagings(inboxDir: string, tipId: string, keep?: string): Promise<void> {
  for (const name of await readdir(inboxDir)) {
    if (name !== keep && STAGING.exec(name)?.[1] === tipId) await discard(inboxDir, name);
  }
}

/**
 * Sweeps what killed workers left in the inbox and nothing can finish any more: trash folders, and
 * staging folders of tips that are delivered already or gone from the vault. A staging folder of a
 * tip still in the vault is left to that tip's next attempt, which may be running right now.
 */
export async function sweepInbox(vault: Vault, inboxDir: string): Promise<number> {
  // The inbox is read before the vault: a staging folder seen here belongs to a tip that was
  // committed before, so a tip missing from the vault list is really finished, not yet to come.
  const names = await readdir(inboxDir);
  const pending = new Set(await vault.list());
  let removed = 0;
  for (const name of names) {
    if (TRASH.test(name)) {
      await rm(join(inboxDir, name), { recursive: true, force: true });
      removed++;
      continue;
    }
    const tipId = STAGING.exec(name)?.[1];
    if (tipId === undefined) continue;
    if (pending.has(tipId) && !exists(join(inboxDir, tipId))) continue;
    if (await discard(inboxDir, name)) removed++;
  }
  return removed;
}

/**
 * Errors after which a hard link cannot work here but a copy can: another filesystem, a filesystem
 * without hard links, a link count at its limit, or a kernel that refuses links to some files.
 */
const NO_LINK = new Set(['EXDEV', 'EPERM', 'EACCES', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** The inbox folder's fsync, shared by the deliveries whose renames were done before it began (dir-sync.ts). */
const inboxSyncs = new Map<string, DirSync>();
function inboxSync(inboxDir: string): DirSync {
  let s = inboxSyncs.get(inboxDir);
  if (!s) inboxSyncs.set(inboxDir, (s = new DirSync(inboxDir)));
  return s;
}

/** A file's (or folder's) times set to the day, then fsynced, in one open. */
async function stampAndSync(path: string, day: Date): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    futimesSync(fd, day, day);
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Hard-links the vault's file into staging. True when linked; false when links cannot work here
 * (the caller copies this file and the rest). The vault's file was fsynced and stamped with the day
 * before the tip was acknowledged, so only its kind and size are checked, and the staging folder's
 * fsync makes the new name durable.
 */
function tryLink(from: string, to: string, f: { name: string; size: number }): boolean {
  try {
    linkSync(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT') throw new VaultMismatch(`sealed file ${f.name} is missing`);
    if (NO_LINK.has(code)) return false;
    throw e;
  }
  const st = statSync(to);
  if (!st.isFile() || st.size !== f.size) throw new VaultMismatch(`sealed file ${f.name} is not a whole file`);
  return true;
}

export interface DeliverOptions {
  /**
   * Another attempt at this tip may have run before (a retry, a stalled job): its staging folder, if
   * a killed worker left one, is discarded first. A first attempt skips that, which spares a read of
   * the whole inbox folder per tip; anything a first attempt could miss is removed by sweepInbox.
   */
  retry?: boolean;
}

/** Returns 'delivered', or 'already' when a previous (or concurrent) attempt had delivered it. */
export async function deliverToInbox(vault: Vault, inboxDir: string, job: TipJob, opts: DeliverOptions = {}): Promise<'delivered' | 'already'> {
  if (!TIP_ID.test(job.tipId)) throw new VaultMismatch('bad tip id');
  const final = join(inboxDir, job.tipId);
  const names = job.files.map((f) => f.name);
  if (exists(final)) {
    await discardStagings(inboxDir, job.tipId);
    await vault.remove(job.tipId, names);
    return 'already';
  }
  const local = vault.localPath ? (name: string) => vault.localPath!(job.tipId, name) : undefined;
  // Verify the vault copy is whole before anything reaches editors. With hard links, each linked
  // file's own size is checked below instead, in the same number of calls as this listing.
  if (!local) {
    const inVault = new Map((await vault.files(job.tipId)).map((f) => [f.name, f.size]));
    for (const f of job.files) {
      if (inVault.get(f.name) !== f.size) throw new VaultMismatch(`sealed file ${f.name} is missing or truncated`);
    }
  }
  const name = `.staging-${job.tipId}-${randomBytes(8).toString('hex')}`;
  const staging = join(inboxDir, name);
  if (opts.retry) await discardStagings(inboxDir, job.tipId);
  mkdirSync(staging, { mode: 0o700 });
  try {
    const day = dayOf(new Date());
    let linking = local !== undefined;
    for (const f of job.files) {
      const path = join(staging, f.name);
      if (linking && tryLink(local!(f.name), path, f)) continue;
      linking = false;
      if (local) await copyFile(local(f.name), path, constants.COPYFILE_EXCL);
      else await pipeline(vault.open(job.tipId, f.name), createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: 1024 * 1024 }));
      if (statSync(path).size !== f.size) throw new VaultMismatch(`copy of ${f.name} is truncated`);
      await stampAndSync(path, day);
    }
    // A folder renamed into another keeps its times (ext4, xfs, tmpfs), so they are set here, where
    // the fsync covers them, rather than after the rename.
    await stampAndSync(staging, day);
    try {
      // Fails with ENOTEMPTY/EEXIST when a concurrent attempt delivered first; ENOENT when another
      // attempt discarded our staging. Neither leaves a mixed or half tip in the inbox.
      renameSync(staging, final);
    } catch (e) {
      if (!exists(final)) throw e;
      await discard(inboxDir, name);
      await vault.remove(job.tipId, names);
      return 'already';
    }
    // Only an fsync of the inbox begun after this rename counts (see dir-sync.ts).
    await inboxSync(inboxDir).sync();
  } catch (e) {
    await discard(inboxDir, name);
    throw e;
  }
  await vault.remove(job.tipId, names);
  return 'delivered';
}
