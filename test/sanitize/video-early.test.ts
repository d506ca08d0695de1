import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { ffmpeg, run, workdir } from './media-fixtures.ts';
import { sampleRanges } from '../../src/sanitize/iso-sample-table.ts';
import { EarlyRemux, type EarlyResult } from '../../src/sanitize/video-early.ts';
import { checkEarly } from '../../src/sanitize/video-early-check.ts';

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
      assert.deepEqual(samples, theirs, `stream ${index}`);
    }
  });
}

/** Runs the streamed remux over a whole file in one go, as if its upload had just ended. */
async function streamedRemux(path: string): Promise<EarlyResult> {
  const early = new EarlyRemux(path, 64 * 1024 * 1024, {
    prepare: async () => {},
    start: (cleaned) => { cleaned.stream.resume(); },
  });
  early.write(readFileSync(path));
  early.end();
  const r = await early.result;
  assert.ok(r, 'the streamed remux ran');
  await r.cleaned.done;
  return r;
}

test('the check keeps a streamed remux only when it blanked the same units, with the same plan, as the ordinary cleaning', async () => {
  const src = clip('check.mp4', 'libx264', true);
  const r = await streamedRemux(src);
  assert.ok(r.fills.length > 0, 'x264 wrote an SEI to blank');
  const fresh = (name: string) => { copyFileSync(src, w.file(name)); return w.file(name); };
  const same = await checkEarly(r, fresh('same.mp4'), MP4);
  assert.equal(same.keep, true, same.why);
  assert.equal(same.plan.removed.sei, r.fills.length / 3);

  const missed = await checkEarly({ ...r, fills: r.fills.slice(3) }, fresh('missed.mp4'), MP4);
  assert.deepEqual([missed.keep, missed.why], [false, 'fills'], 'an SEI the stream did not blank');
  const extra = await checkEarly({ ...r, fills: [...r.fills, r.fills[0]! + 100, 8, 0] }, fresh('extra.mp4'), MP4);
  assert.deepEqual([extra.keep, extra.why], [false, 'fills'], 'bytes the ordinary scrub would not touch');
  const plan = { ...r.plan, args: r.plan.args.filter((a) => a !== '-xerror') };
  const other = await checkEarly({ ...r, plan }, fresh('other.mp4'), MP4);
  assert.deepEqual([other.keep, other.why], [false, 'plan'], 'other arguments');
  const moved = await checkEarly({ ...r, layout: { ...r.layout, mdatAt: r.layout.mdatAt + 8 } }, fresh('moved.mp4'), MP4);
  assert.deepEqual([moved.keep, moved.why], [false, 'layout'], 'the data read elsewhere');
});

test('a moov-last file is not streamed at all: nothing starts', async () => {
  for (const path of [clip('last.mp4', 'libx264', false)]) {
    const early = new EarlyRemux(path, 64 * 1024 * 1024, { prepare: async () => assert.fail('started'), start: () => assert.fail('started') });
    early.write(readFileSync(path));
    early.end();
    assert.equal(await early.result, undefined);
  }
});
