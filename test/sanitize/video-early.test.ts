import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { ffmpeg, run, workdir } from './media-fixtures.ts';
import { sampleRanges } from '../../src/sanitize/iso-sample-table.ts';
import { EarlyRemux, type EarlyResult } from '../../src/sanitize/video-early.ts';
import { checkEarly } from '../../src/sanitize/video-early-check.ts';
import { manySeiMp4 } from '../support/mp4-sei.ts';
import { cleanVideo } from '../../src/sanitize/video.ts';

// The streamed remux's own reading of a file (video-early.ts) is trusted only as far as the check
// made from ffprobe's reading agrees with it (video-early-check.ts). These pin both sides.

const w = workdir();
after(() => w.remove());
const MP4 = { ext: 'mp4', mime: 'video/mp4' };

function clip(name: string, codec: 'libx264' | 'libx265', faststart: boolean): string {
  const path = w.file(name);
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25,noise=alls=40:allf=t', '-f', 'lavfi', '-i', 'sine=sample_rate=44100', '-t', '2',
    '-c:v', codec, '-preset', 'ultrafast', ...(codec === 'libx265' ? ['-x265-params', 'log-level=none', '-tag:v', 'hvc1'] : []),
    '-c:a', 'aac', ...(faststart ? ['-movflags', '+faststart'] : []), path);
  return path;
}

/** The moov's payload, read the plain way. */
function moovBody(path: string): Buffer {
  const b = readFileSync(path);
  for (let at = 0; at + 8 <= b.length; at += b.readUInt32BE(at)) {
    if (b.toString('latin1', at + 4, at + 8) === 'moov') return b.subarray(at + 8, at + b.readUInt32BE(at));
  }
  throw new Error('no moov');
}

for (const [codec, faststart] of [['libx264', true], ['libx265', false]] as const) {
  test(`our reading of the sample tables finds every packet where ffprobe does (${codec}, moov ${faststart ? 'first' : 'last'})`, () => {
    const src = clip(`tables-${codec}.mp4`, codec, faststart);
    const ours = sampleRanges(moovBody(src));
    assert.ok(ours);
    const listing = JSON.parse(run('ffprobe', ['-v', 'error', '-of', 'json', '-show_entries', 'packet=stream_index,pos,size', src]).toString()) as
      { packets: Array<{ stream_index: number; pos: string; size: string }> };
    assert.equal(ours.length, 2);
    for (const [index, samples] of ours.entries()) {
      const theirs = listing.packets.filter((p) => p.stream_index === index).flatMap((p) => [Number(p.pos), Number(p.size)]);
      assert.deepEqual(Array.from(samples), theirs, `stream ${index}`);
    }
  });
}

/** Uploads `src` through the early remux into `dest`, as receive() does, and waits for ffmpeg. */
async function streamedRemux(src: string, dest: string): Promise<{ r: EarlyResult; out: Buffer; early: EarlyRemux }> {
  const parts: Buffer[] = [];
  const early = new EarlyRemux(dest, 64 * 1024 * 1024, {
    prepare: async () => {},
    start: (cleaned) => { cleaned.stream.on('data', (b: Buffer) => parts.push(b)); },
  });
  await pipeline(createReadStream(src, { highWaterMark: 64 * 1024 }), early.stream, createWriteStream(dest));
  early.end();
  const r = await early.result;
  assert.ok(r, 'the streamed remux ran');
  await r.cleaned.done;
  return { r, out: Buffer.concat(parts), early };
}

test('the check keeps an early remux only when its blanking is the ordinary scrub\'s, with the same plan and layout', async () => {
  const src = clip('check.mp4', 'libx264', true);
  const { r, out } = await streamedRemux(src, w.file('check-up.mp4'));
  assert.ok(r.fills.length > 0, 'x264 wrote an SEI to blank');
  assert.equal(out.includes(Buffer.from('x264', 'latin1')), false, 'the SEI was blanked before ffmpeg read it');
  // The check reads the very file ffmpeg read: each case starts from it as the upload left it.
  const dest = w.file('check-up.mp4');
  const uploaded = readFileSync(dest);
  const fresh = () => { writeFileSync(dest, uploaded); return dest; };
  const same = await checkEarly(r, fresh(), MP4);
  assert.equal(same.keep, true, same.why);

  // What ffmpeg read must be what the ordinary cleaning of the upload feeds it.
  const ordinary = w.file('ordinary.mp4');
  copyFileSync(src, ordinary);
  const c = await cleanVideo(ordinary, MP4, w.scratch);
  assert.ok(readFileSync(c.path).equals(out), 'the same bytes as the ordinary cleaning');

  // An SEI we did not blank: the ordinary scrub still finds one.
  const missed = fresh();
  restoreUnit(missed, src, r.fills[0]!, r.fills[1]!);
  const withSei = readFileSync(missed);
  assert.deepEqual(pick(await checkEarly({ ...r, fills: r.fills.slice(3) }, missed, MP4)), [false, 'missed']);
  assert.ok(readFileSync(missed).equals(withSei), 'the check only looks: the ordinary cleaning then finds and counts that SEI itself');
  // A blanked stretch that is not a unit of any frame (our reading of the tables gone wrong).
  assert.deepEqual(pick(await checkEarly({ ...r, fills: [...r.fills, r.fills[0]! + 1, 8, 0] }, fresh(), MP4)), [false, 'fills']);
  assert.deepEqual(pick(await checkEarly({ ...r, plan: { ...r.plan, args: r.plan.args.filter((a) => a !== '-xerror') } }, fresh(), MP4)), [false, 'plan']);
  assert.deepEqual(pick(await checkEarly({ ...r, layout: { ...r.layout, mdatAt: r.layout.mdatAt + 8 } }, fresh(), MP4)), [false, 'layout']);
});

test('restore() puts back every byte the early remux blanked', async () => {
  const src = clip('restore.mp4', 'libx264', true);
  const dest = w.file('restore-up.mp4');
  const { r, early } = await streamedRemux(src, dest);
  assert.ok(r.fills.length > 0, 'x264 wrote an SEI to blank');
  assert.equal(readFileSync(dest).equals(readFileSync(src)), false, 'scratch held the blanked upload');
  await early.restore();
  assert.ok(readFileSync(dest).equals(readFileSync(src)), 'the upload as it was sent');
});

test('a moov-last file, or one cut before its data, is not remuxed early: nothing starts, and every byte passes as it came', async () => {
  const whole = clip('last.mp4', 'libx264', false);
  const fast = readFileSync(clip('cut-head.mp4', 'libx264', true));
  const cuts = [fast.subarray(0, 64), fast.subarray(0, fast.indexOf('mdat') - 4)];
  for (const [i, bytes] of [readFileSync(whole), ...cuts].entries()) {
    const src = w.file(`pass-${i}.mp4`);
    writeFileSync(src, bytes);
    await passesUntouched(src, w.file(`pass-${i}-up.mp4`), `case ${i}`);
  }
});

function pick(v: { keep: boolean; why?: string }): [boolean, string | undefined] {
  return [v.keep, v.why];
}

/** Copies the original bytes of one unit back into `path`. */
function restoreUnit(path: string, original: string, at: number, len: number): void {
  const b = readFileSync(path);
  readFileSync(original).copy(b, at, at, at + len);
  writeFileSync(path, b);
}

test('more SEI units than the ordinary scrub trusts itself with: the early remux is not kept (the filter cleans them)', async () => {
  const src = manySeiMp4(w.file('many-sei'), 50); // 100 frames × 50: past max(4096, 4 per frame)
  const dest = w.file('many-sei-up.mp4');
  const { r } = await streamedRemux(src, dest);
  assert.ok(r.fills.length / 3 > 4096);
  assert.deepEqual(pick(await checkEarly(r, dest, MP4)), [false, 'too many']);
});

test('a frame whose units do not tile it: the early remux gives up, and restore() leaves scratch exactly as uploaded', async () => {
  const good = manySeiMp4(w.file('bad-frame'), 2);
  const bytes = readFileSync(good);
  // Frame 10's last unit claims 1000 bytes more than the frame holds; its SEI units come before it.
  const listing = JSON.parse(run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pos,size', '-of', 'json', good]).toString()) as
    { packets: Array<{ pos: string; size: string }> };
  const [pos, size] = [Number(listing.packets[10]!.pos), Number(listing.packets[10]!.size)];
  let at = pos;
  let lastUnit = pos;
  while (at < pos + size) { lastUnit = at; at += 4 + bytes.readUInt32BE(at); }
  bytes.writeUInt32BE(bytes.readUInt32BE(lastUnit) + 1000, lastUnit);
  const src = w.file('bad-frame-crafted.mp4');
  writeFileSync(src, bytes);
  const dest = w.file('bad-frame-up.mp4');
  const early = new EarlyRemux(dest, 64 * 1024 * 1024, { prepare: async () => {}, start: (c) => { c.stream.resume(); } });
  await pipeline(createReadStream(src, { highWaterMark: 4096 }), early.stream, createWriteStream(dest));
  early.end();
  assert.equal(await early.result, undefined);
  await early.restore();
  assert.ok(readFileSync(dest).equals(bytes), 'the upload as sent, SEI and all, for the ordinary cleaning');
});

test('an upload cut inside its last sample: the early remux gives up at once, and its ffmpeg is gone', async () => {
  const whole = readFileSync(clip('cut-tail.mp4', 'libx264', true));
  const src = w.file('cut-tail-crafted.mp4');
  writeFileSync(src, whole.subarray(0, whole.length - 100));
  const dest = w.file('cut-tail-up.mp4');
  const early = new EarlyRemux(dest, 64 * 1024 * 1024, { prepare: async () => {}, start: (c) => { c.stream.resume(); } });
  await pipeline(createReadStream(src), early.stream, createWriteStream(dest));
  early.end();
  assert.equal(await early.result, undefined);
  for (let i = 0; i < 50 && spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).status !== 1; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).status, 1, 'no ffmpeg waits for the missing bytes');
});

test('stopped from outside half way (the seal failed, ffmpeg died): scratch still gets the upload in order, and restore() makes it whole', async () => {
  const src = clip('stop-midway.mp4', 'libx264', true);
  const bytes = readFileSync(src);
  for (const [chunk, after] of [[4096, 40], [16384, 12], [1000, 150]] as const) {
    const dest = w.file(`stop-midway-${chunk}.mp4`);
    const early = new EarlyRemux(dest, 64 * 1024 * 1024, { prepare: async () => {}, start: (c) => { c.stream.resume(); } });
    let seen = 0;
    const stopper = new Transform({
      transform(c: Buffer, _e, cb) {
        if (++seen === after) early.abort();
        cb(null, c);
      },
    });
    await pipeline(createReadStream(src, { highWaterMark: chunk }), stopper, early.stream, createWriteStream(dest));
    early.end();
    assert.equal(await early.result, undefined);
    await early.restore();
    assert.ok(readFileSync(dest).equals(bytes), `chunks of ${chunk}, stopped after ${after}: the upload as sent`);
  }
});

test('a fast-start file with more tracks than a phone writes (17) is not remuxed early, and passes as it came', async () => {
  const src = w.file('tracks-17.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=8000', '-t', '1',
    '-map', '0:v', ...Array.from({ length: 16 }, () => ['-map', '1:a']).flat(), '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac',
    '-movflags', '+faststart', src);
  await passesUntouched(src, w.file('tracks-17-up.mp4'));
});

/** Uploads `src` through an early remux into `dest`: nothing may start, and every byte passes as it came. */
async function passesUntouched(src: string, dest: string, label = ''): Promise<void> {
  let prepared = false;
  const early = new EarlyRemux(dest, 64 * 1024 * 1024, {
    prepare: async () => { prepared = true; },
    start: (c) => { c.stream.resume(); },
  });
  await pipeline(createReadStream(src), early.stream, createWriteStream(dest));
  early.end();
  assert.equal(await early.result, undefined, label);
  assert.equal(prepared, false, `${label}: nothing started`);
  assert.ok(readFileSync(dest).equals(readFileSync(src)), `${label}: scratch holds the upload as sent`);
}

test('a fast-start video that needs re-encoding (MJPEG) is not remuxed early: a re-encode waits for the whole file and its limits', async () => {
  const src = w.file('mjpeg.mov');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '1', '-c:v', 'mjpeg', '-movflags', '+faststart', src);
  await passesUntouched(src, w.file('mjpeg-up.mov'));
});
