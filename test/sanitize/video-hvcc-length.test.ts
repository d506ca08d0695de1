/**
 * HEVC's NAL length size, which the SEI scrub walks frames with, is read from the hvcC as ffprobe
 * reads it (hvccLengthSizes), never from the file's own moov: ffmpeg may take its configuration
 * from another box (a glbl before the hvcC, a moov hidden in a udta), and a walk with the wrong
 * length size could pass over an SEI. Reading the moov ourselves saved one ffprobe run (~50–100 ms)
 * and was removed for that (review, session 5).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { hvccLengthSizes } from '../../src/sanitize/video-sei-scrub.ts';
import { limitsFor, listPackets, type ProbedStream } from '../../src/sanitize/video-probe.ts';
import { ffmpeg, workdir, type Workdir } from './media-fixtures.ts';
import { boxPath, inserted } from './iso-edit.ts';

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

const sizesOf = async (path: string, indexes: number[]) => [...(await hvccLengthSizes(path, indexes, { ...limitsFor(path, false), fileBytes: 0 }))!];

describe('read as ffprobe reads it', () => {
  for (const [label, name, codecs, extra] of [
    ['MP4, moov at the end', 'end.mp4', ['hevc'], []],
    ['MP4, moov first', 'first.mp4', ['hevc'], ['-movflags', '+faststart']],
    ['MOV with H.264 then HEVC', 'mixed.mov', ['h264', 'hevc'], []],
    ['MP4 with two HEVC streams', 'two.mp4', ['hevc', 'hevc'], []],
  ] as const) {
    it(label, async () => {
      const path = made(name, [...codecs], [...extra]);
      const indexes = hevcIndexes(await streamsOf(path));
      assert.equal(indexes.length, codecs.filter((c) => c === 'hevc').length);
      assert.deepEqual(await sizesOf(path, indexes), indexes.map((i) => [i, 4]), 'x265 writes 4-byte lengths');
    });
  }
});

const HVCC_PATH = ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd', 'hvc1', 'hvcC'];

describe('files whose own moov says otherwise than what ffmpeg reads', () => {
  it('a configuration that says 2-byte lengths is read as 2', async () => {
    const path = made('two-byte.mp4', ['hevc'], ['-tag:v', 'hvc1']);
    const file = readFileSync(path);
    const [hvcc] = boxPath(file, HVCC_PATH).slice(-1);
    const at = hvcc![0] + 8 + 21;
    file[at] = (file[at]! & ~3) | 1;
    writeFileSync(path, file);
    const indexes = hevcIndexes(await streamsOf(path));
    assert.deepEqual(await sizesOf(path, indexes), [[indexes[0], 2]]);
  });

  it('a glbl box before the hvcC, as long as it and saying 2-byte lengths: ffmpeg takes the glbl, and so do we', async () => {
    const path = made('glbl.mp4', ['hevc'], ['-tag:v', 'hvc1']);
    const file = readFileSync(path);
    const p = boxPath(file, HVCC_PATH);
    const [start, end] = p[p.length - 1]!;
    const glbl = Buffer.from(file.subarray(start, end));
    glbl.write('glbl', 4, 'latin1');
    glbl[8 + 21] = (glbl[8 + 21]! & ~3) | 1;
    writeFileSync(path, inserted(file, p.slice(0, -1), start, glbl));
    const indexes = hevcIndexes(await streamsOf(path));
    assert.deepEqual(await sizesOf(path, indexes), [[indexes[0], 2]]);
  });

  it('a moov hidden in a udta before the real one, saying 2-byte lengths where the real one says 4', async () => {
    const path = made('udta.mp4', ['hevc'], ['-tag:v', 'hvc1']);
    const file = readFileSync(path);
    const [moov] = boxPath(file, ['moov']);
    assert.equal(moov![1], file.length, 'moov is last');
    const hidden = Buffer.from(file.subarray(moov![0]));
    const [hvcc] = boxPath(hidden, HVCC_PATH).slice(-1);
    hidden[hvcc![0] + 8 + 21] = (hidden[hvcc![0] + 8 + 21]! & ~3) | 1;
    const udta = Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.from('udta'), hidden]);
    udta.writeUInt32BE(udta.length, 0);
    writeFileSync(path, Buffer.concat([file.subarray(0, moov![0]), udta, file.subarray(moov![0])]));
    const indexes = hevcIndexes(await streamsOf(path));
    assert.deepEqual(await sizesOf(path, indexes), [[indexes[0], 2]], 'what ffmpeg reads, not the top-level moov');
  });
});
