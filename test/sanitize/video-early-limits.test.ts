import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ffmpeg, workdir } from './media-fixtures.ts';
import { manySeiMp4 } from '../support/mp4-sei.ts';
import { EarlyRemux, type EarlyLimits } from '../../src/sanitize/video-early.ts';
import { cleanVideo } from '../../src/sanitize/video.ts';

// An upload remuxed early pins memory of its own in the intake: the frame held back until it is
// whole, and the bytes it blanked, kept to put back. A hostile file can push either without bound,
// so past a limit the remux gives up. Giving up must not lose or reorder a byte of what was held,
// and must leave scratch as sent (our blanking undone) for the ordinary cleaning, which then has
// the last word. The production limits are 16 MiB; these tests pass small ones (EarlyLimits).

const w = workdir();
after(() => w.remove());
const MP4 = { ext: 'mp4', mime: 'video/mp4' };
const ROOMY: EarlyLimits = { maxHold: 64 * 1024 * 1024, maxUndo: 64 * 1024 * 1024 };

/** Uploads `src` in small chunks through an early remux with `limits`; says whether ffmpeg had started. */
async function upload(src: string, dest: string, limits: EarlyLimits): Promise<{ early: EarlyRemux; started: boolean; kept: boolean }> {
  let started = false;
  const early = new EarlyRemux(dest, 64 * 1024 * 1024, {
    prepare: async () => {},
    start: (c) => { started = true; c.stream.resume(); },
  }, limits);
  await pipeline(createReadStream(src, { highWaterMark: 4096 }), early.stream, createWriteStream(dest));
  early.end();
  const r = await early.result;
  await r?.cleaned.done;
  return { early, started, kept: r !== undefined };
}

async function noFfmpegLeft(): Promise<void> {
  for (let i = 0; i < 50 && spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).status !== 1; i++) await sleep(100);
  assert.equal(spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).status, 1, 'no ffmpeg left');
}

/** The remux gave up after blanking some SEI: scratch comes back as sent, and the ordinary cleaning takes it. */
async function gaveUpCleanly(src: string, dest: string, limits: EarlyLimits): Promise<void> {
  const { early, started, kept } = await upload(src, dest, limits);
  assert.equal(started, true, 'ffmpeg had started');
  assert.equal(kept, false, 'the remux gave up');
  await noFfmpegLeft();
  const sent = readFileSync(src);
  assert.equal(readFileSync(dest).equals(sent), false, 'SEI was blanked in scratch before it gave up');
  await early.restore();
  assert.ok(readFileSync(dest).equals(sent), 'scratch holds the upload as sent, every byte in order');
  const ordinary = w.file('ordinary.mp4');
  copyFileSync(src, ordinary);
  const want = await cleanVideo(ordinary, MP4, w.scratch);
  const got = await cleanVideo(dest, MP4, w.scratch);
  assert.ok((got.report.removed.sei ?? 0) > 0, 'the ordinary cleaning found the SEI to blank');
  assert.ok(readFileSync(got.path).equals(readFileSync(want.path)), 'what the ordinary cleaning makes of the upload');
}

test('a frame that outgrows the hold limit before it is whole: the remux gives up, and nothing held is lost', async () => {
  // Clean frames first (the first carries x264's SEI, blanked and written), then noise: frames of ~110 KiB.
  const src = w.file('hold.mp4');
  ffmpeg('-f', 'lavfi', '-i', "testsrc2=size=320x240:rate=25,noise=alls=60:allf=t:enable='gte(t,1)'", '-t', '2',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '10', '-movflags', '+faststart', src);
  const limits = { ...ROOMY, maxHold: 64 * 1024 };
  assert.equal((await upload(src, w.file('hold-roomy.mp4'), ROOMY)).kept, true, 'with room, this file is remuxed early');
  await gaveUpCleanly(src, w.file('hold-up.mp4'), limits);
});

test('more blanked SEI than the undo limit keeps: the remux gives up, and every blanked byte is put back', async () => {
  const src = manySeiMp4(w.file('undo'), 2); // 100 frames × 2 units of 34 bytes
  const limits = { ...ROOMY, maxUndo: 2000 }; // passed about a third of the way in
  assert.equal((await upload(src, w.file('undo-roomy.mp4'), ROOMY)).kept, true, 'with room, this file is remuxed early');
  await gaveUpCleanly(src, w.file('undo-up.mp4'), limits);
});
