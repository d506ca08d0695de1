/**
 * Delivery from the vault to the inbox, in-process and without Redis: hard links when both are on
 * one filesystem, a copy when they are not, and the exactly-once rules (a staging folder per attempt,
 * retries discard what earlier attempts left, a delivered tip is never delivered again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FsVault } from '../../src/vault/fs-vault.ts';
import { deliverToInbox, sweepInbox, VaultMismatch } from '../../src/delivery/inbox.ts';
import { dayOf } from '../../src/crypto/seal.ts';
import { newTipId } from '../../src/intake/receipt.ts';
import type { TipJob } from '../../src/queue/tips.ts';

async function committedTip(vault: FsVault, files: Record<string, Buffer>): Promise<TipJob> {
  const tipId = newTipId();
  const draft = await vault.begin(tipId);
  const sealed = [];
  for (const [name, bytes] of Object.entries(files)) sealed.push(await draft.put(name, Readable.from([bytes])));
  await draft.commit();
  return { tipId, files: sealed };
}

/** A vault (in `vaultRoot`, or a fresh folder) and an empty inbox for `fn`, both removed after it. */
async function withVault(fn: (vault: FsVault, inbox: string) => Promise<void>, vaultRoot = mkdtempSync(join(tmpdir(), 'buzon-deliver-vault-'))): Promise<void> {
  const inbox = mkdtempSync(join(tmpdir(), 'buzon-deliver-inbox-'));
  try {
    await fn(await new FsVault(vaultRoot).init(), inbox);
  } finally {
    for (const d of [vaultRoot, inbox]) rmSync(d, { recursive: true, force: true });
  }
}

const FILES = { 'manifest.json.pgp': Buffer.from('sealed manifest'), 'file-1.pgp': Buffer.alloc(200_000, 7) };

test('same filesystem: sealed files are hard-linked, not copied; the vault copy is gone; times are the day', async () => {
  await withVault(async (vault, inbox) => {
    const job = await committedTip(vault, FILES);
    const inodes = Object.fromEntries(job.files.map((f) => [f.name, statSync(vault.localPath(job.tipId, f.name)).ino]));
    assert.equal(await deliverToInbox(vault, inbox, job), 'delivered');
    const dir = join(inbox, job.tipId);
    assert.deepEqual(readdirSync(inbox), [job.tipId]);
    assert.deepEqual(readdirSync(dir).sort(), Object.keys(FILES).sort());
    const day = dayOf(new Date()).getTime();
    for (const [name, bytes] of Object.entries(FILES)) {
      const st = statSync(join(dir, name));
      assert.equal(st.ino, inodes[name], `${name} was copied, not linked`);
      assert.equal(st.nlink, 1, `${name} still has its vault name`);
      assert.equal(st.mtimeMs, day);
      assert.equal(st.mode & 0o777, 0o600);
      assert.deepEqual(readFileSync(join(dir, name)), bytes);
    }
    assert.equal(statSync(dir).mtimeMs, day);
    assert.deepEqual(await vault.list(), []);
    // A retry of a delivered tip does nothing more.
    assert.equal(await deliverToInbox(vault, inbox, job, { retry: true }), 'already');
    assert.deepEqual(readdirSync(inbox), [job.tipId]);
  });
});

test('another filesystem (vault on tmpfs, inbox on disk): link fails with EXDEV and the files are copied', async (t) => {
  if (statSync('/dev/shm').dev === statSync(tmpdir()).dev) return t.skip('/dev/shm and the temp folder are one filesystem here');
  await withVault(async (vault, inbox) => {
    const job = await committedTip(vault, FILES);
    assert.equal(await deliverToInbox(vault, inbox, job), 'delivered');
    const dir = join(inbox, job.tipId);
    for (const [name, bytes] of Object.entries(FILES)) {
      assert.deepEqual(readFileSync(join(dir, name)), bytes);
      assert.equal(statSync(join(dir, name)).mtimeMs, dayOf(new Date()).getTime());
    }
    assert.deepEqual(await vault.list(), []);
    assert.deepEqual(readdirSync(inbox), [job.tipId]);
  }, mkdtempSync('/dev/shm/buzon-deliver-vault-'));
});

test('a vault file that does not match the job is not delivered, and no staging folder is left', async () => {
  await withVault(async (vault, inbox) => {
    const job = await committedTip(vault, FILES);
    const truncated = { ...job, files: job.files.map((f) => (f.name === 'file-1.pgp' ? { ...f, size: f.size + 1 } : f)) };
    await assert.rejects(deliverToInbox(vault, inbox, truncated), VaultMismatch);
    const missing = { ...job, files: [...job.files, { name: 'file-2.pgp', size: 3 }] };
    await assert.rejects(deliverToInbox(vault, inbox, missing), VaultMismatch);
    assert.deepEqual(readdirSync(inbox), []);
    // The vault copy is untouched: a later, correct attempt still delivers it.
    assert.equal(await deliverToInbox(vault, inbox, job), 'delivered');
  });
});

test('a retry discards the staging folder a killed attempt left; a first attempt leaves it to the sweep', async () => {
  await withVault(async (vault, inbox) => {
    for (const retry of [true, false]) {
      const job = await committedTip(vault, FILES);
      const dead = join(inbox, `.staging-${job.tipId}-0123456789abcdef`);
      mkdirSync(dead);
      writeFileSync(join(dead, 'manifest.json.pgp'), 'half');
      assert.equal(await deliverToInbox(vault, inbox, job, { retry }), 'delivered');
      assert.deepEqual(readdirSync(join(inbox, job.tipId)).sort(), Object.keys(FILES).sort());
      const hidden = readdirSync(inbox).filter((n) => n.startsWith('.'));
      if (retry) {
        assert.deepEqual(hidden, []);
      } else {
        assert.deepEqual(hidden, [`.staging-${job.tipId}-0123456789abcdef`]);
        assert.equal(await sweepInbox(vault, inbox), 1);
      }
    }
    assert.deepEqual(readdirSync(inbox).filter((n) => n.startsWith('.')), []);
  });
});

test('two attempts at once deliver the tip once, whole', async () => {
  await withVault(async (vault, inbox) => {
    const jobs = await Promise.all(Array.from({ length: 20 }, () => committedTip(vault, FILES)));
    const outcomes = await Promise.all(jobs.flatMap((job) => [
      deliverToInbox(vault, inbox, job).catch(() => 'failed'),
      deliverToInbox(vault, inbox, job, { retry: true }).catch(() => 'failed'),
    ]));
    // An attempt whose staging the other discarded fails and would be retried; at least one delivers.
    for (let i = 0; i < jobs.length; i++) assert.ok(outcomes.slice(2 * i, 2 * i + 2).includes('delivered'), `tip ${i}: ${outcomes.slice(2 * i, 2 * i + 2)}`);
    for (const job of jobs) {
      assert.deepEqual(readdirSync(join(inbox, job.tipId)).sort(), Object.keys(FILES).sort());
      assert.deepEqual(readFileSync(join(inbox, job.tipId, 'file-1.pgp')), FILES['file-1.pgp']);
    }
    assert.deepEqual(readdirSync(inbox).filter((n) => n.startsWith('.')), []);
    assert.deepEqual(await vault.list(), []);
  });
});
