/**
 * Voice notes whose codec configuration record hides bytes after what a decoder reads: a `-c copy`
 * remux wrote them to editors as they were. Each is now re-encoded, with a warning, and the
 * hidden bytes are gone; ordinary notes are still copied bit for bit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { cleanAudio } from '../../src/sanitize/audio.ts';
import type { Cleaned } from '../../src/sanitize/types.ts';
import {
  HIDDEN, audioPacketsMd5, decodesCleanly, ffmpeg, probe, wavWithFmtExtension, workdir, type Workdir,
} from './media-fixtures.ts';
import { boxPath, inserted, withAsc } from './iso-edit.ts';

let w: Workdir;
before(() => { w = workdir(); });
after(() => w.remove());

const TONE = ['-f', 'lavfi', '-i', 'sine=sample_rate=44100:duration=1', '-ac', '2'];
const clean = (path: string, ext: string): Promise<Cleaned> => cleanAudio(path, { ext, mime: '' }, w.scratch);
const hides = (path: string): boolean => readFileSync(path).includes(HIDDEN);

/** `path` made by ffmpeg, then `edit`ed; the crafted file must still play and hold the marker. */
function crafted(name: string, args: string[], edit: (b: Buffer) => Buffer): string {
  const made = w.file('made-' + name);
  ffmpeg(...args, made);
  const path = w.file(name);
  writeFileSync(path, edit(readFileSync(made)));
  assert.ok(hides(path) && decodesCleanly(path), 'the fixture hides the marker and plays');
  return path;
}

/** The box at the end of `path` grown by the marker: what a decoder never reads. */
const grownBox = (path: string[]) => (b: Buffer): Buffer => {
  const p = boxPath(b, path);
  return inserted(b, p, p[p.length - 1]![1], HIDDEN);
};

function assertReencoded(out: Cleaned, codec: string): void {
  assert.equal(hides(out.path), false, 'the hidden bytes are gone');
  assert.deepEqual(probe(out.path).streams.map((s) => s.codec_name), [codec]);
  assert.ok(out.report.warnings.some((m) => m.includes('re-encoded')), out.report.warnings.join());
  assert.ok(decodesCleanly(out.path));
}

describe('voice notes with bytes hidden in their codec configuration', () => {
  it('an M4A whose AAC AudioSpecificConfig has bytes after its end', async () => {
    const src = crafted('asc.m4a', [...TONE, '-c:a', 'aac', '-f', 'ipod'], (b) => withAsc(b, (asc) => Buffer.concat([asc, HIDDEN])));
    assertReencoded(await clean(src, 'm4a'), 'aac');
  });

  it('an M4A of Apple Lossless whose alac box is longer than its config (kept lossless)', async () => {
    const alac = ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd', 'alac', 'alac'];
    const src = crafted('alac.m4a', [...TONE, '-c:a', 'alac', '-f', 'ipod'], grownBox(alac));
    assertReencoded(await clean(src, 'm4a'), 'alac');
  });

  it('an Ogg Opus note whose OpusHead is longer than it says', async () => {
    // ffmpeg reads an MP4's dOps box whole into the OpusHead, and writes that head into an Ogg.
    const mp4 = crafted('head.mp4', [...TONE, '-c:a', 'libopus'], grownBox(['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd', 'Opus', 'dOps']));
    const src = w.file('head.opus');
    ffmpeg('-i', mp4, '-c', 'copy', '-f', 'ogg', src);
    assert.ok(hides(src));
    assertReencoded(await clean(src, 'opus'), 'opus');
  });

  it('a PCM WAV with a format extension (kept PCM, same samples)', async () => {
    const src = crafted('ext.wav', [...TONE, '-c:a', 'pcm_s16le', '-f', 'wav'], (b) => wavWithFmtExtension(b, HIDDEN));
    const out = await clean(src, 'wav');
    assertReencoded(out, 'pcm_s16le');
    assert.equal(audioPacketsMd5(out.path), audioPacketsMd5(w.file('made-ext.wav')), 'lossless');
  });

  it('an MS ADPCM WAV, whose coefficient table is copied as it is, becomes PCM', async () => {
    const src = crafted('adpcm.wav', [...TONE, '-c:a', 'adpcm_ms', '-f', 'wav'], (b) => wavWithFmtExtension(b, HIDDEN));
    assertReencoded(await clean(src, 'wav'), 'pcm_s16le');
  });
});

describe('ordinary voice notes keep the copy', () => {
  const cases: Array<[string, string, string[], ((b: Buffer) => Buffer)?]> = [
    ['ffmpeg AAC', 'm4a', [...TONE, '-c:a', 'aac', '-f', 'ipod']],
    // Apple's encoder writes the 2-byte AudioSpecificConfig, with no SBR signalling after it.
    ['iPhone-style AAC', 'm4a', [...TONE, '-c:a', 'aac', '-f', 'ipod'], (b) => withAsc(b, () => Buffer.from('1210', 'hex'))],
    ['Opus (WhatsApp, Telegram)', 'opus', ['-f', 'lavfi', '-i', 'sine=sample_rate=48000:duration=1', '-c:a', 'libopus', '-b:a', '24k', '-f', 'ogg']],
    ['FLAC', 'flac', [...TONE, '-c:a', 'flac']],
    ['PCM WAV', 'wav', [...TONE, '-c:a', 'pcm_s16le']],
  ];
  for (const [label, ext, args, edit] of cases) {
    it(`${label} (.${ext}) is copied, without a warning`, async () => {
      const src = w.file(`plain-${ext}-${label.length}.${ext}`);
      ffmpeg(...args, src);
      if (edit) writeFileSync(src, edit(readFileSync(src)));
      const out = await clean(src, ext);
      assert.deepEqual(out.report.warnings, []);
      assert.equal(audioPacketsMd5(out.path), audioPacketsMd5(src), 'the same packets');
    });
  }
});
