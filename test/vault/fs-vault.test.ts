/**
 * The filesystem vault's draft → commit contract: nothing is visible before commit; a committed tip
 * has every file whole, dated to the day only; a draft that fails or is aborted leaves nothing; and
 * no file descriptor stays open, whichever way the draft ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { FsVault } from '../../src/vault/fs-vault.ts';
import { dayOf } from '../../src/crypto/seal.ts';
import { filesystemOf } from '../../src/sanitize/scratch.ts';

const openFds = () => readdirSync('/proc/self/fd').length;

async function withVault(fn: (vault: FsVault, root: string) => Promise<void>, base = tmpdir()): Promise<void> {
  const root = mkdtempSync(join(base, 'buzon-vault-'));
  try {
    await fn(await new FsVault(root).init(), root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const tipId = (n: number) => n.toString(16).padStart(32, '0');

test('a committed tip holds every file whole, dated to the day, and no descriptor stays open', async () => {
  await withVault(async (vault) => {
    const fds = openFds();
    const draft = await vault.begin(tipId(1));
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const put = await draft.put('file-1.pgp', Readable.from([big.subarray(0, 1000), big.subarray(1000)]));
    const fromFd = await draft.putFromFd!('file-2.pgp', async (fd) => { writeSync(fd, Buffer.from('sealed by gpg')); });
    const bytes = await draft.putBytes('manifest.json.pgp', new Uint8Array([1, 2, 3]));
    assert.deepEqual([put.size, fromFd.size, bytes.size], [big.length, 13, 3]);
    assert.deepEqual(await vault.list(), [], 'nothing is visible before commit');
    await draft.commit();
    assert.deepEqual(await vault.list(), [tipId(1)]);
    assert.deepEqual(await vault.files(tipId(1)), [
      { name: 'file-1.pgp', size: big.length },
      { name: 'file-2.pgp', size: 13 },
      { name: 'manifest.json.pgp', size: 3 },
    ]);
    assert.ok(readFileSync(vault.localPath(tipId(1), 'file-1.pgp')).equals(big));
    assert.equal(readFileSync(vault.localPath(tipId(1), 'file-2.pgp'), 'utf8'), 'sealed by gpg');
    const day = dayOf(new Date()).getTime();
    for (const name of ['file-1.pgp', 'file-2.pgp', 'manifest.json.pgp']) {
      assert.equal(statSync(vault.localPath(tipId(1), name)).mtimeMs, day, `${name} is dated to the day only`);
    }
    assert.equal(openFds(), fds, 'every file descriptor of the draft is closed after commit');
  });
});

test('an aborted draft leaves nothing behind, its pending flushes included', async () => {
  await withVault(async (vault, root) => {
    const fds = openFds();
    const draft = await vault.begin(tipId(2));
    await draft.putBytes('manifest.json.pgp', new Uint8Array(2048));
    await draft.put('file-1.pgp', Readable.from([Buffer.alloc(4096)]));
    await draft.abort();
    assert.deepEqual(await vault.list(), []);
    assert.deepEqual(readdirSync(join(root, '.drafts')), []);
    assert.equal(openFds(), fds, 'every file descriptor of the draft is closed after abort');
  });
});

test('a writer that fails mid-file refuses the put, closes its descriptor, and abort removes the draft', async () => {
  await withVault(async (vault, root) => {
    const fds = openFds();
    const draft = await vault.begin(tipId(3));
    await assert.rejects(draft.putFromFd!('file-1.pgp', async (fd) => {
      writeSync(fd, Buffer.from('half'));
      throw new Error('gpg died');
    }), /gpg died/);
    await assert.rejects(draft.put('file-2.pgp', Readable.from((async function* () {
      yield Buffer.from('half');
      throw new Error('seal failed');
    })())), /seal failed/);
    await draft.abort();
    assert.equal(existsSync(join(root, '.drafts', tipId(3))), false);
    assert.deepEqual(await vault.list(), []);
    assert.equal(openFds(), fds);
  });
});

// A tmpfs keeps its pages whatever we advise (they are the file), so this test needs a disk: the
// project's own folder when the temp folder is a tmpfs, as it is on some machines.
const onDisk = ['tmpfs', 'ramfs'].includes(filesystemOf(tmpdir())) ? process.cwd() : tmpdir();

/** Bytes of `path` in the page cache (util-linux's fincore). */
function cached(path: string): number {
  return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' }).trim());
}

const MiB = 1024 * 1024;

/**
 * Waits (up to 20 s: a slow disk's fsync) until less than `bytes` of `path` is cached; whether it got
 * there. Not a timing assertion: without drops during the write it never does.
 */
async function cachedFallsBelow(path: string, bytes: number): Promise<boolean> {
  for (const until = Date.now() + 20_000; Date.now() < until; await sleep(100)) {
    if (cached(path) < bytes) return true;
  }
  return false;
}

test('a big sealed file leaves the page cache as it is flushed, and whole at the end, whichever way it is written', async (t) => {
  if (['tmpfs', 'ramfs'].includes(filesystemOf(onDisk))) {
    t.skip('no disk-backed folder here: a tmpfs keeps its pages');
    return;
  }
  await withVault(async (vault, root) => {
    const draft = await vault.begin(tipId(5));
    const chunk = Buffer.alloc(MiB, 9);
    const size = 200 * MiB;
    const draftPath = (name: string) => join(root, '.drafts', tipId(5), name);
    // 190 MiB written, then a pause for the flushes behind it: at least the first 128 MiB must leave
    // the cache before the file is done, as they do while a 2 GiB video is still being sealed.
    const during: Record<string, boolean> = {};
    const put = await draft.put('file-1.pgp', Readable.from((async function* () {
      for (let i = 0; i < size / MiB; i++) {
        if (i === 190) during.put = await cachedFallsBelow(draftPath('file-1.pgp'), 100 * MiB);
        yield chunk;
      }
    })()));
    const fromFd = await draft.putFromFd!('file-2.pgp', async (fd) => {
      for (let i = 0; i < size / MiB; i++) {
        if (i === 190) during.putFromFd = await cachedFallsBelow(draftPath('file-2.pgp'), 100 * MiB);
        writeSync(fd, chunk);
      }
    });
    const small = await draft.put('file-3.pgp', Readable.from([Buffer.alloc(MiB, 1)]));
    await draft.commit();
    assert.deepEqual([put.size, fromFd.size, small.size], [size, size, MiB]);
    assert.deepEqual(during, { put: true, putFromFd: true }, 'pages are dropped while the file is still being written');
    // Without the drop each big file stays cached whole (200 MiB): a video tip would hold its size in RAM.
    assert.ok(cached(vault.localPath(tipId(5), 'file-1.pgp')) < 16 * MiB, 'put() drops what it flushed');
    assert.ok(cached(vault.localPath(tipId(5), 'file-2.pgp')) < 16 * MiB, 'putFromFd() drops what it flushed');
    // And the bytes are all there, read back from disk.
    const back = readFileSync(vault.localPath(tipId(5), 'file-2.pgp'));
    assert.equal(back.length, size);
    assert.ok(back.subarray(size - MiB).equals(chunk));
  }, onDisk);
});
