/**
 * Delivers a sealed tip to INBOX_DIR/<tipId>/, exactly once. Files are copied into a hidden staging
 * folder, fsynced, and the folder is renamed into place: editors see a whole tip or none. A retried
 * job that finds the tip already delivered does nothing but finish the vault clean-up.
 *
 * The same tip can be worked on twice at once: BullMQ hands a job to a second worker when the first
 * one's lock lapses (a worker that was SIGKILLed, or a Redis restart that lost the lock key while the
 * first worker is still copying), and several workers may share one inbox. So each attempt stages in
 * its own folder (.staging-<tipId>-<nonce>), only its owner ever renames it, and a rename onto a
 * delivered tip fails (the folder is never empty) instead of mixing two attempts' files.
 */
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { dayOf } from '../crypto/seal.ts';
import { TIP_ID, type Vault } from '../vault/vault.ts';
import { fsyncPath } from '../vault/dir-sync.ts';
import type { TipJob } from '../queue/tips.ts';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
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
    await rename(join(inboxDir, name), trash);
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
    if (pending.has(tipId) && !(await exists(join(inboxDir, tipId)))) continue;
    if (await discard(inboxDir, name)) removed++;
  }
  return removed;
}

/** Returns 'delivered', or 'already' when a previous (or concurrent) attempt had delivered it. */
export async function deliverToInbox(vault: Vault, inboxDir: string, job: TipJob): Promise<'delivered' | 'already'> {
  if (!TIP_ID.test(job.tipId)) throw new VaultMismatch('bad tip id');
  const final = join(inboxDir, job.tipId);
  if (await exists(final)) {
    await discardStagings(inboxDir, job.tipId);
    await vault.remove(job.tipId);
    return 'already';
  }
  // Verify the vault copy is whole before anything reaches editors.
  const inVault = new Map((await vault.files(job.tipId)).map((f) => [f.name, f.size]));
  for (const f of job.files) {
    if (inVault.get(f.name) !== f.size) throw new VaultMismatch(`sealed file ${f.name} is missing or truncated`);
  }
  const name = `.staging-${job.tipId}-${randomBytes(8).toString('hex')}`;
  const staging = join(inboxDir, name);
  await discardStagings(inboxDir, job.tipId);
  await mkdir(staging, { mode: 0o700 });
  try {
    const day = dayOf(new Date());
    for (const f of job.files) {
      const path = join(staging, f.name);
      const local = vault.localPath?.(job.tipId, f.name);
      if (local) await copyFile(local, path, constants.COPYFILE_EXCL);
      else await pipeline(vault.open(job.tipId, f.name), createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: 1024 * 1024 }));
      if ((await stat(path)).size !== f.size) throw new VaultMismatch(`copy of ${f.name} is truncated`);
      await fsyncPath(path);
      await utimes(path, day, day);
    }
    await fsyncPath(staging);
    try {
      // Fails with ENOTEMPTY/EEXIST when a concurrent attempt delivered first; ENOENT when another
      // attempt discarded our staging. Neither leaves a mixed or half tip in the inbox.
      await rename(staging, final);
    } catch (e) {
      if (!(await exists(final))) throw e;
      await discard(inboxDir, name);
      await vault.remove(job.tipId);
      return 'already';
    }
    await utimes(final, day, day);
    await fsyncPath(inboxDir);
  } catch (e) {
    await discard(inboxDir, name);
    throw e;
  }
  await vault.remove(job.tipId);
  return 'delivered';
}
