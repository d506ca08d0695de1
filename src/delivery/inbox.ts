/**
 * Delivers a sealed tip to INBOX_DIR/<tipId>/, exactly once. Files are copied into a hidden staging
 * folder, fsynced, and the folder is renamed into place: editors see a whole tip or none. A retried
 * job that finds the tip already delivered does nothing but finish the vault clean-up.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { dayOf } from '../crypto/seal.ts';
import type { Vault } from '../vault/vault.ts';
import type { TipJob } from '../queue/tips.ts';

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

export class VaultMismatch extends Error {}

/** Returns 'delivered', or 'already' when a previous attempt had delivered it. */
export async function deliverToInbox(vault: Vault, inboxDir: string, job: TipJob): Promise<'delivered' | 'already'> {
  const final = join(inboxDir, job.tipId);
  if (await exists(final)) {
    await vault.remove(job.tipId);
    return 'already';
  }
  // Verify the vault copy is whole before anything reaches editors.
  const inVault = new Map((await vault.files(job.tipId)).map((f) => [f.name, f.size]));
  for (const f of job.files) {
    if (inVault.get(f.name) !== f.size) throw new VaultMismatch(`sealed file ${f.name} is missing or truncated`);
  }
  const staging = join(inboxDir, `.staging-${job.tipId}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: 0o700 });
  const day = dayOf(new Date());
  for (const f of job.files) {
    const path = join(staging, f.name);
    await pipeline(vault.open(job.tipId, f.name), createWriteStream(path, { mode: 0o600, highWaterMark: 1024 * 1024 }));
    if ((await stat(path)).size !== f.size) throw new VaultMismatch(`copy of ${f.name} is truncated`);
    await fsyncPath(path);
    await utimes(path, day, day);
  }
  await fsyncPath(staging);
  await rename(staging, final);
  await utimes(final, day, day);
  await fsyncPath(inboxDir);
  await vault.remove(job.tipId);
  return 'delivered';
}
