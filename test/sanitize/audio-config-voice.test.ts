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
  HIDDEN, audioPacketsMd5, decodedMd5, decodesCleanly, ffmpeg, probe, wavWithFmtExtension, workdir, type Workdir,
} from './media-fixtures.ts';
import { boxPath, inserted, withAsc, withHiddenSecondEntry } from './iso-edit.ts';

let w: Workdir;
before(() => { w = workdir(); });
after(() => w.remove());

const TONE = ['-f', 'lavfi', '-i', 'sine=sample_rate=44100:duration=1', '-ac', '2'];
const clean = (path: string, ext: string): Promise<Cleaned> => cleanAudio(path, { ext, mime: '' }, w.scratch);
const hides = (path: string, marker = HIDDEN): boolean => readFileSync(path).includes(marker);

/** `path` made by ffmpeg, then `edit`ed; the crafted file must still play and hold the marker. */
function crafted(name: string, args: string[], edit: (b: Buffer) => Buffer, marker = HIDDEN): string {
  const made = w.file('made-' + name);
  ffmpeg(...args, made);
  const path = w.file(name);
  writeFileSync(path, edit(readFileSync(made)));
  assert.ok(hides(path, marker) && decodesCleanly(path), 'the fixture hides the marker and plays');
  return path;
}

/** `serial` written over the bytes at `at(file)`: fields a decoder never checks. */
const overwritten = (serial: Buffer, at: (b: Buffer) => number) => (b: Buffer): Buffer => {
  const out = Buffer.from(b);
  serial.copy(out, at(b));
  return out;
};

/** The box at the end of `path` grown by the marker: what a decoder never reads. */
const grownBox = (path: string[]) => (b: Buffer): Buffer => {
  const p = boxPath(b, path);
  return inserted(b, p, p[p.length - 1]![1], HIDDEN);
};

function assertReencoded(out: Cleaned, codec: string, marker = HIDDEN): void {
  assert.equal(hides(out.path, marker), false, 'the hidden bytes are gone');
  assert.deepEqual(probe(out.path).streams.map((s) => s.codec_name), [codec]);
  assert.ok(out.report.warnings.some((m) => m.includes('re-encoded')), out.report.warnings.join());
  assert.ok(decodesCleanly(out.path));
}

describe('voice notes with bytes hidden in their codec configuration', () => {
  it('an M4A whose AAC AudioSpecificConfig has bytes after its end', async () => {
    const src = crafted('asc.m4a', [...TONE, '-c:a', 'aac', '-f', 'ipod'], (b) => withAsc(b, (asc) => Buffer.concat([asc, HIDDEN])));
    assertReencoded(await clean(src, 'm4a'), 'aac');
  });

  it('a low-bit-rate AAC note is re-encoded near its own bit rate, not at 192 kbps (a long one would outgrow the cap)', async () => {
    // Noise, which an encoder spends every bit it is given on (a pure tone would not show the rate).
    const noise = ['-f', 'lavfi', '-i', 'anoisesrc=d=2:c=white:r=44100:s=1', '-ac', '2'];
    const src = crafted('low.m4a', [...noise, '-c:a', 'aac', '-b:a', '32k', '-f', 'ipod'], (b) => withAsc(b, (asc) => Buffer.concat([asc, HIDDEN])));
    const out = await clean(src, 'm4a');
    assertReencoded(out, 'aac');
    const rate = Number(probe(out.path).streams[0]!.bit_rate);
    // 64 kbps, the floor; at 192 kbps the encoder spends ~91 kbps on this 32 kbps source.
    assert.ok(rate > 0 && rate < 75_000, `re-encoded at ${rate} b/s`);
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

  it('an M4A with an empty AAC config whose chunks use a second sample entry hiding bytes', async () => {
    const src = crafted('entry2.m4a', ['-f', 'lavfi', '-i', 'sine=sample_rate=44100:duration=3', '-ac', '2', '-c:a', 'aac', '-f', 'ipod'],
      (b) => withHiddenSecondEntry(b, HIDDEN));
    assertReencoded(await clean(src, 'm4a'), 'aac');
  });

  it('a FLAC whose STREAMINFO MD5 spells a serial (kept lossless, same samples)', async () => {
    const serial = Buffer.from('SERIAL F2LXK 31.', 'latin1');
    // 'fLaC', the block header, then STREAMINFO's MD5 at 18.
    const src = crafted('md5.flac', [...TONE, '-c:a', 'flac'], overwritten(serial, () => 4 + 4 + 18), serial);
    const out = await clean(src, 'flac');
    assertReencoded(out, 'flac', serial);
    assert.equal(decodedMd5(out.path), decodedMd5(src), 'the same samples');
  });

  it('an Apple Lossless M4A whose unchecked config fields spell a serial (kept lossless)', async () => {
    const serial = Buffer.from('F2LXK-31.7', 'latin1');
    // maxRun, maxFrameBytes and avgBitRate, 10 bytes into the config after the box's 12-byte header.
    const src = crafted('fields.m4a', [...TONE, '-c:a', 'alac', '-f', 'ipod'],
      overwritten(serial, (b) => boxPath(b, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd', 'alac', 'alac']).at(-1)![0] + 12 + 10), serial);
    const out = await clean(src, 'm4a');
    assertReencoded(out, 'alac', serial);
    assert.equal(decodedMd5(out.path), decodedMd5(src), 'the same samples');
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
    ['PCM WAV', 'wav', [...TONE, '-c:a', 'pcm_s16le']],
    // No record at all: ADTS frames carry their own headers, MP3 has none.
    ['ADTS AAC', 'aac', [...TONE, '-c:a', 'aac', '-f', 'adts']],
    ['MP3', 'mp3', [...TONE, '-c:a', 'libmp3lame']],
    // An Android recorder's 16 kHz voice: the OpusHead records that input rate.
    ['Opus from 16 kHz', 'opus', ['-f', 'lavfi', '-i', 'sine=sample_rate=16000:duration=1', '-c:a', 'libopus', '-b:a', '16k', '-f', 'ogg']],
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
