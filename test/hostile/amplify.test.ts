/**
 * A remux bomb: a 1.7 MiB MP4 whose sample tables list one frame 60 times, so that a remux would
 * write ~100 MiB. The intake stops the remux at its output cap, refuses the video with 422 naming
 * it, and keeps nothing of the ~66 MiB already sealed into the draft.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { startHostile, expectRefused, postTip, type Hostile } from './harness.ts';
import { repeatedSampleMp4 } from '../support/mp4-repeat.ts';
import { earlyCounts } from '../../src/intake/early-seal.ts';

let h: Hostile;
let dir: string;
before(async () => {
  h = await startHostile();
  dir = mkdtempSync('/dev/shm/buzon-amplify-');
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await h.stop();
});

test('an MP4 listing one frame 60 times (a ~100 MiB remux from 1.7 MiB) is refused with 422, nothing kept', async () => {
  const video = readFileSync(repeatedSampleMp4(dir, 60));
  const message = await expectRefused(h, { status: 422, code: 'cleaning_failed' }, async () =>
    postTip(h).field('note', 'mira el video').attach('files', video, 'repetido.mp4'));
  assert.ok(message.includes('repetido.mp4'), `the message names the file: ${message}`);
});

test('the same bomb written fast-start (moov first) is not remuxed while it uploads, and is refused the same way', async () => {
  const started = earlyCounts.started;
  const video = readFileSync(repeatedSampleMp4(dir, 60, { faststart: true }));
  const message = await expectRefused(h, { status: 422, code: 'cleaning_failed' }, async () =>
    postTip(h).field('note', 'mira el video').attach('files', video, 'repetido.mp4'));
  assert.ok(message.includes('repetido.mp4'), `the message names the file: ${message}`);
  assert.equal(earlyCounts.started, started, 'frames that overlap keep the early remux from starting');
});
