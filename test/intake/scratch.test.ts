import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareScratch, filesystemOf } from '../../src/sanitize/scratch.ts';

test('scratch on a disk is refused, naming SCRATCH_DIR and the way out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'buzon-disk-'));
  if (filesystemOf(dir) === 'tmpfs') return; // this machine's /tmp is RAM-backed: nothing to prove here
  assert.throws(() => prepareScratch(dir, false), /SCRATCH_DIR .* not tmpfs: plaintext would touch disk/);
});

test('scratch on a disk is allowed only when the operator says so explicitly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'buzon-disk-'));
  assert.doesNotThrow(() => prepareScratch(dir, true));
});

test('scratch on tmpfs is accepted, and what a crash left in it is removed at start', () => {
  const dir = mkdtempSync('/dev/shm/buzon-scratch-');
  writeFileSync(join(dir, 'left-by-crash.upload'), 'plaintext');
  prepareScratch(dir, false);
  assert.deepEqual(readdirSync(dir), []);
});
