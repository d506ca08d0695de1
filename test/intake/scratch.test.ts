import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareScratch, filesystemOf } from '../../src/sanitize/scratch.ts';

test('scratch on a disk is refused, naming SCRATCH_DIR and the way out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'buzon-disk-'));
  try {
    if (filesystemOf(dir) === 'tmpfs') return; // this machine's /tmp is RAM-backed: nothing to prove here
    assert.throws(() => prepareScratch(dir, false), /SCRATCH_DIR .* not tmpfs: plaintext would touch disk/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('scratch on a disk is allowed only when the operator says so explicitly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'buzon-disk-'));
  assert.doesNotThrow(() => prepareScratch(dir, true));
  rmSync(dir, { recursive: true });
});

test('scratch on tmpfs is accepted, and what a crash left in it is removed at start', () => {
  const dir = mkdtempSync('/dev/shm/buzon-scratch-');
  const scratch = prepareScratch(dir, false);
  for (const path of [scratch.path('.upload'), scratch.path('.mp4'), scratch.path() + '-1.png', scratch.path()]) writeFileSync(path, 'plaintext');
  prepareScratch(dir, false);
  assert.deepEqual(readdirSync(dir), []);
  rmSync(dir, { recursive: true });
});

test("a SCRATCH_DIR shared with other programs keeps their files: only names scratch makes are removed", () => {
  const dir = mkdtempSync('/dev/shm/buzon-scratch-shared-');
  const scratch = prepareScratch(dir, false);
  writeFileSync(scratch.path('.upload'), 'ours');
  for (const name of ['hx-build.lock', 'buzon-src-1', 'pulse-shm-123', 'ABCDEF0123456789abcdef01.upload']) writeFileSync(join(dir, name), 'theirs');
  prepareScratch(dir, false);
  assert.deepEqual(readdirSync(dir).sort(), ['ABCDEF0123456789abcdef01.upload', 'buzon-src-1', 'hx-build.lock', 'pulse-shm-123']);
  rmSync(dir, { recursive: true });
});
