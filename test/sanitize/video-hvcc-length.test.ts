/**
 * HEVC's NAL length size read from the file's own hvcC records (video-hvcc-length.ts) must agree
 * with ffprobe's reading of the same records, and must give way to ffprobe (undefined) whenever the
 * tracks and ffprobe's streams do not match one to one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { hvccLengthsFromMoov } from '../../src/sanitize/video-hvcc-length.ts';
import { hvccLengthSizes } from '../../src/sanitize/video-sei-scrub.ts';
import { limitsFor, listPackets, type ProbedStream } from '../../src/sanitize/video-probe.ts';
import { ffmpeg, truncate, workdir, type Workdir } from './media-fixtures.ts';

let w: Workdir;
before(() => { w = workdir(); });
after(() => w.remove());

/** A second of test pattern in `codecs` order (each a video stream), with AAC audio after them. */
function made(name: string, codecs: Array<'hevc' | 'h264'>, extra: string[] = []): string {
  const path = w.file(name);
  const inputs = codecs.flatMap(() => ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10']);
  const maps = codecs.flatMap((_, i) => ['-map', `${i}:v`]);
  const enc = codecs.flatMap((c, i) => (c === 'hevc' ? [`-c:v:${i}`, 'libx265', `-x265-params:v:${i}`, 'log-level=none'] : [`-c:v:${i}`, 'libx264']));
  ffmpeg(...inputs, '-f', 'lavfi', '-i', 'sine=sample_rate=8000', ...maps, '-map', `${codecs.length}:a`, '-t', '1', ...enc, '-c:a', 'aac', ...extra, path);
  return path;
}

async function streamsOf(path: string): Promise<ProbedStream[]> {
  const got = await listPackets(path, 'mov');
  assert.ok(got, 'ffprobe lists the file');
  return got.probe.streams;
}

const hevcIndexes = (streams: ProbedStream[]) => streams.filter((s) => s.codec_name === 'hevc').map((s) => s.index);

describe('read from the moov, as ffprobe reads it', () => {
  for (const [label, name, codecs, extra] of [
    ['MP4, moov at the end', 'end.mp4', ['hevc'], []],
    ['MP4, moov first', 'first.mp4', ['hevc'], ['-movflags', '+faststart']],
    ['MOV with H.264 then HEVC', 'mixed.mov', ['h264', 'hevc'], []],
    ['MP4 with two HEVC streams', 'two.mp4', ['hevc', 'hevc'], []],
  ] as const) {
    it(label, async () => {
      const path = made(name, [...codecs], [...extra]);
      const streams = await streamsOf(path);
      const indexes = hevcIndexes(streams);
      assert.equal(indexes.length, codecs.filter((c) => c === 'hevc').length);
      const ours = hvccLengthsFromMoov(path, streams, indexes);
      const theirs = await hvccLengthSizes(path, indexes, { ...limitsFor(path, false), fileBytes: 0 });
      assert.ok(ours && theirs);
      assert.deepEqual([...ours], [...theirs]);
      assert.deepEqual([...ours.values()], indexes.map(() => 4), 'x265 writes 4-byte lengths');
    });
  }
});

describe('gives way to ffprobe when it cannot match', () => {
  it('a record whose length is not the extradata ffprobe reports', async () => {
    const path = made('lying.mp4', ['hevc']);
    const streams = (await streamsOf(path)).map((s) => (s.codec_name === 'hevc' ? { ...s, extradata_size: (s.extradata_size ?? 0) + 1 } : s));
    assert.equal(hvccLengthsFromMoov(path, streams, hevcIndexes(streams)), undefined);
  });

  it('more HEVC streams named by ffprobe than HEVC tracks in the moov', async () => {
    const path = made('one.mp4', ['hevc']);
    const streams = await streamsOf(path);
    const extra = { ...streams.find((s) => s.codec_name === 'hevc')!, index: 99 };
    assert.equal(hvccLengthsFromMoov(path, [...streams, extra], [...hevcIndexes(streams), 99]), undefined);
  });

  it('a stream the caller asks for that is not HEVC', async () => {
    const path = made('asked.mp4', ['hevc']);
    const streams = await streamsOf(path);
    const audio = streams.find((s) => s.codec_type === 'audio')!.index;
    assert.equal(hvccLengthsFromMoov(path, streams, [audio]), undefined);
  });

  it('a file cut before its moov (moov at the end)', async () => {
    const path = made('whole.mp4', ['hevc']);
    const streams = await streamsOf(path);
    const cut = truncate(path, w.file('cut.mp4'));
    assert.equal(hvccLengthsFromMoov(cut, streams, hevcIndexes(streams)), undefined);
  });
});

/** Absolute [start, end) of each box on the path from the top level, in a file whose moov is last. */
function boxPath(file: Buffer, path: string[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  // Where children start: after the header, after stsd's version and count, after a visual entry's fields.
  const childrenAt = (type: string) => (type === 'stsd' ? 16 : type === 'hvc1' || type === 'hev1' ? 86 : 8);
  let [from, to, skip] = [0, file.length, 0];
  for (const want of path) {
    let p = from + skip;
    for (;;) {
      assert.ok(p + 8 <= to, `no ${want}`);
      const size = file.readUInt32BE(p);
      if (file.toString('latin1', p + 4, p + 8) === want) break;
      p += size;
    }
    out.push([p, p + file.readUInt32BE(p)]);
    [from, to, skip] = [p, p + file.readUInt32BE(p), childrenAt(want)];
  }
  return out;
}

/** `file` with `bytes` put at `at` inside the boxes of `path`, each of them grown to hold it. */
function inserted(file: Buffer, path: Array<[number, number]>, at: number, bytes: Buffer): Buffer {
  const out = Buffer.concat([file.subarray(0, at), bytes, file.subarray(at)]);
  for (const [start] of path) out.writeUInt32BE(out.readUInt32BE(start) + bytes.length, start);
  return out;
}

const HVCC_PATH = ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd', 'hvc1', 'hvcC'];

describe('a file crafted to make the two readings differ is left to ffprobe', () => {
  it('a glbl box before the hvcC, as long as it and saying 2-byte lengths (ffmpeg takes the first)', async () => {
    const path = made('glbl.mp4', ['hevc'], ['-tag:v', 'hvc1']);
    const file = readFileSync(path);
    const p = boxPath(file, HVCC_PATH);
    const [start, end] = p[p.length - 1]!;
    const glbl = Buffer.from(file.subarray(start, end));
    glbl.write('glbl', 4, 'latin1');
    glbl[8 + 21] = (glbl[8 + 21]! & ~3) | 1;
    writeFileSync(path, inserted(file, p.slice(0, -1), start, glbl));
    const streams = await streamsOf(path);
    assert.equal(hvccLengthsFromMoov(path, streams, hevcIndexes(streams)), undefined);
  });

  it('an HEVC sample description in a track whose handler is not video', async () => {
    const path = made('soun.mp4', ['hevc'], ['-tag:v', 'hvc1']);
    const file = readFileSync(path);
    const [hdlr] = boxPath(file, ['moov', 'trak', 'mdia', 'hdlr']).slice(-1);
    file.write('soun', hdlr![0] + 16, 'latin1');
    writeFileSync(path, file);
    const streams = await streamsOf(path);
    assert.equal(hvccLengthsFromMoov(path, streams, hevcIndexes(streams)), undefined);
  });
});

it('a configuration that says 2-byte lengths is read as 2, as ffprobe reads it', async () => {
  const path = made('two-byte.mp4', ['hevc'], ['-tag:v', 'hvc1']);
  const file = readFileSync(path);
  const [hvcc] = boxPath(file, HVCC_PATH).slice(-1);
  const at = hvcc![0] + 8 + 21;
  file[at] = (file[at]! & ~3) | 1;
  writeFileSync(path, file);
  const streams = await streamsOf(path);
  const indexes = hevcIndexes(streams);
  assert.deepEqual([...hvccLengthsFromMoov(path, streams, indexes)!], [[indexes[0], 2]]);
  assert.deepEqual([...(await hvccLengthSizes(path, indexes, { ...limitsFor(path, false), fileBytes: 0 }))!], [[indexes[0], 2]]);
});
