import { test, type TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareScratch, filesystemOf, removeScratch } from '../../src/sanitize/scratch.ts';
import { tempInScratch } from '../../src/sanitize/temp-in-scratch.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';
import { openFiles } from '../support/proc-tree.ts';

/** A fresh folder (in the OS temp folder, or `base`), removed after the test. */
function folder(t: TestContext, prefix: string, base?: string): string {
  const dir = tempDir(prefix, base);
  t.after(() => removeDirs(dir));
  return dir;
}

test('scratch on a disk is refused, naming SCRATCH_DIR and the way out', (t) => {
  const dir = folder(t, 'buzon-disk-');
  if (filesystemOf(dir) === 'tmpfs') return; // this machine's /tmp is RAM-backed: nothing to prove here
  assert.throws(() => prepareScratch(dir, false), /SCRATCH_DIR .* not tmpfs: plaintext would touch disk/);
});

test('scratch on a disk is allowed only when the operator says so explicitly', (t) => {
  const dir = folder(t, 'buzon-disk-');
  assert.doesNotThrow(() => prepareScratch(dir, true));
});

test('scratch on tmpfs is accepted, and what a crash left in it is removed at start', (t) => {
  const dir = folder(t, 'buzon-scratch-', '/dev/shm');
  const scratch = prepareScratch(dir, false);
  for (const path of [scratch.path('.upload'), scratch.path('.mp4'), scratch.path() + '-1.png', scratch.path()]) writeFileSync(path, 'plaintext');
  prepareScratch(dir, false);
  assert.deepEqual(readdirSync(dir), []);
});

test("a SCRATCH_DIR shared with other programs keeps their files: only names scratch makes are removed", (t) => {
  const dir = folder(t, 'buzon-scratch-shared-', '/dev/shm');
  const scratch = prepareScratch(dir, false);
  writeFileSync(scratch.path('.upload'), 'ours');
  for (const name of ['hx-build.lock', 'buzon-src-1', 'pulse-shm-123', 'ABCDEF0123456789abcdef01.upload']) writeFileSync(join(dir, name), 'theirs');
  prepareScratch(dir, false);
  assert.deepEqual(readdirSync(dir).sort(), ['ABCDEF0123456789abcdef01.upload', 'buzon-src-1', 'hx-build.lock', 'pulse-shm-123']);
});

/** Our descriptors that still point at `path` (a file unlinked while open reads "<path> (deleted)"). */
function heldOpen(path: string): number {
  return openFiles('self').filter((f) => f.startsWith(path)).length;
}

test('removeScratch takes the name away before it returns, and lets go of the file once its promise settles', async (t) => {
  const dir = folder(t, 'buzon-scratch-remove-', '/dev/shm');
  const scratch = prepareScratch(dir, false);
  const path = scratch.path('.upload');
  writeFileSync(path, Buffer.alloc(4 * 1024 * 1024, 7));
  const freed = removeScratch(path);
  // Nothing can open the plaintext again from here on, although its pages may not be free yet.
  assert.equal(existsSync(path), false);
  assert.deepEqual(readdirSync(dir), []);
  await freed;
  assert.equal(heldOpen(path), 0, 'no descriptor of ours keeps the pages');
});

test('removeScratch of a file already gone settles at once; a folder in its place is left alone, with no descriptor kept', async (t) => {
  const dir = folder(t, 'buzon-scratch-remove-', '/dev/shm');
  const scratch = prepareScratch(dir, false);
  await removeScratch(scratch.path('.upload'));
  // Not a regular file: left to the thread pool's rm, which refuses a folder without `recursive`.
  const odd = scratch.path();
  mkdirSync(odd);
  await removeScratch(odd);
  assert.equal(heldOpen(odd), 0);
  assert.ok(existsSync(odd));
});

test('removeScratch never blocks on a FIFO put where a scratch file was: it is removed, and nothing waits for a writer', (t) => {
  const dir = folder(t, 'buzon-scratch-fifo-', '/dev/shm');
  const fifo = prepareScratch(dir, false).path('.upload');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  // In a child with a deadline: a blocking open would hold the event loop, and with it any timer here.
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
const { removeScratch } = await import('./src/sanitize/scratch.ts');
await removeScratch(${JSON.stringify(fifo)});
console.log('done');`], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.stdout.trim(), 'done', r.stderr);
  assert.equal(existsSync(fifo), false);
});

test("tempInScratch makes TMPDIR a folder in scratch, and removes what a crash left there but the gpg homes, which have their own sweep", (t) => {
  const dir = folder(t, 'buzon-scratch-tmp-', '/dev/shm');
  const before = process.env.TMPDIR;
  t.after(() => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  });
  const tmp = join(dir, 'tmp');
  mkdirSync(join(tmp, 'buzon-gnupg-abc123'), { recursive: true });
  writeFileSync(join(tmp, 'vips-0-leftover.v'), 'pixels');
  mkdirSync(join(tmp, 'somelib-xyz'));
  assert.equal(tempInScratch(dir), tmp);
  assert.equal(process.env.TMPDIR, tmp);
  assert.deepEqual(readdirSync(tmp), ['buzon-gnupg-abc123']);
});
