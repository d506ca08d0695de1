import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { prepareScratch, filesystemOf } from '../../src/sanitize/scratch.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

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
