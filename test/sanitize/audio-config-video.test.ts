/**
 * The sound track of a video, with bytes hidden in its codec configuration record: the remux used
 * to copy them to editors with the record. Each is now re-encoded, with a warning, on the streamed
 * MP4/MOV path and through scratch; a phone's own track is still copied bit for bit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { cleanVideo } from '../../src/sanitize/video.ts';
import type { Cleaned } from '../../src/sanitize/types.ts';
import {
  HIDDEN, audioPacketsMd5, decodesCleanly, ffmpeg, probe, run, streamCleaned, wavWithFmtExtension, workdir, type Workdir,
} from './media-fixtures.ts';
import { boxPath, inserted, withAsc, withHiddenSecondEntry } from './iso-edit.ts';
import { adtsHeader, withFramePrefix } from './mkv-edit.ts';

let w: Workdir;
/** A phone-like clip: the sound first, so that iso-edit.ts's paths find its track. */
let phone: string;
/** The same clip with bytes after the end of its AAC AudioSpecificConfig. */
let hiddenAac: string;
/** An MP4 whose dOps is longer than the OpusHead it holds. */
let hiddenOpus: string;

const SOUND = ['-f', 'lavfi', '-i', 'sine=sample_rate=48000:duration=1', '-ac', '2'];
const PICTURE = ['-f', 'lavfi', '-i', 'testsrc=size=96x64:rate=15:duration=1'];
const hides = (b: Buffer): boolean => b.includes(HIDDEN);

before(() => {
  w = workdir();
  phone = w.file('phone.mp4');
  ffmpeg(...SOUND, ...PICTURE, '-map', '0', '-map', '1', '-c:a', 'aac', '-c:v', 'libx264', '-preset', 'ultrafast', phone);
  hiddenAac = w.file('hidden-aac.mp4');
  writeFileSync(hiddenAac, withAsc(readFileSync(phone), (asc) => Buffer.concat([asc, HIDDEN])));
  const opus = w.file('opus.mp4');
  ffmpeg(...SOUND, '-c:a', 'libopus', opus);
  const file = readFileSync(opus);
  const p = boxPath(file, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd', 'Opus', 'dOps']);
  hiddenOpus = w.file('hidden-opus.mp4');
  writeFileSync(hiddenOpus, inserted(file, p, p[p.length - 1]![1], HIDDEN));
  for (const f of [hiddenAac, hiddenOpus]) assert.ok(hides(readFileSync(f)) && decodesCleanly(f), 'fixture');
});
after(() => w.remove());

const clean = (path: string, ext: string): Promise<Cleaned> => cleanVideo(path, { ext, mime: '' }, w.scratch);

/** `src`'s streams copied by ffmpeg into another container, record and all (the marker included). */
function remuxed(name: string, ...inputsAndArgs: string[]): string {
  const path = w.file(name);
  ffmpeg(...inputsAndArgs, '-c', 'copy', path);
  assert.ok(hides(readFileSync(path)), 'ffmpeg copies the record');
  return path;
}

function assertReencoded(out: Cleaned, audio: string): void {
  assert.equal(hides(readFileSync(out.path)), false, 'the hidden bytes are gone');
  assert.ok(probe(out.path).streams.some((s) => s.codec_type === 'audio' && s.codec_name === audio));
  assert.ok(out.report.warnings.some((m) => m.includes('audio re-encoded')), out.report.warnings.join());
  assert.ok(decodesCleanly(out.path));
}

describe('video sound tracks with bytes hidden in their codec configuration', () => {
  it('an MP4 with AAC, on the streamed path', async () => {
    const { out, warnings } = await streamCleaned(hiddenAac);
    assert.equal(hides(out), false);
    assert.ok(warnings.some((m) => m.includes('aac audio re-encoded')), warnings.join());
    const path = w.file('streamed.mp4');
    writeFileSync(path, out);
    assert.ok(decodesCleanly(path));
  });

  it('an MP4 whose AAC entry has no config and whose chunks use a second entry hiding bytes, streamed and as a 3GP', async () => {
    const src = w.file('entry2.mp4');
    writeFileSync(src, withHiddenSecondEntry(readFileSync(phone), HIDDEN));
    assert.ok(hides(readFileSync(remuxed('entry2-copy.mp4', '-i', src))), 'a plain remux copies the hidden config');
    const { out, warnings } = await streamCleaned(src);
    assert.equal(hides(out), false);
    assert.ok(warnings.some((m) => m.includes('aac audio re-encoded')), warnings.join());
    assertReencoded(await clean(src, '3gp'), 'aac');
  });

  it('an MP4 whose chunks switch to a second AAC entry is re-encoded even when the first is plain', async () => {
    const src = w.file('entry2-plain.mp4');
    writeFileSync(src, withHiddenSecondEntry(readFileSync(phone), HIDDEN, { emptyFirst: false }));
    const { out, warnings } = await streamCleaned(src);
    assert.equal(hides(out), false);
    assert.ok(warnings.some((m) => m.includes('aac audio re-encoded')), warnings.join());
  });

  it('an MKV whose AAC frames carry ADTS headers the writer turns into a new record: checked in the output, re-encoded', async () => {
    // Written to a pipe, so nothing points into its clusters; the headers say 44.1 kHz, the record 48 kHz.
    const live = run('ffmpeg', ['-v', 'error', ...SOUND, '-c:a', 'aac', '-f', 'matroska', 'pipe:1']);
    const src = w.file('adts.mkv');
    writeFileSync(src, withFramePrefix(live, (frame) => adtsHeader(frame.length)));
    assert.ok(decodesCleanly(src), 'fixture');
    const out = await clean(src, 'mkv');
    assert.deepEqual(probe(out.path).streams.map((s) => s.codec_name), ['opus']);
    assert.ok(out.report.warnings.some((m) => m.includes('aac audio re-encoded')), out.report.warnings.join());
    assert.ok(decodesCleanly(out.path));
  });

  it('a MOV with AAC', async () => {
    assertReencoded(await clean(remuxed('hidden.mov', '-i', hiddenAac), 'mov'), 'aac');
  });

  it('a 3GP with AAC', async () => {
    assertReencoded(await clean(remuxed('hidden.3gp', '-i', hiddenAac), '3gp'), 'aac');
  });

  it('an MKV with AAC', async () => {
    assertReencoded(await clean(remuxed('hidden.mkv', '-i', hiddenAac), 'mkv'), 'opus');
  });

  it('a WebM with Opus', async () => {
    const vp8 = w.file('vp8.webm');
    ffmpeg(...PICTURE, '-c:v', 'libvpx', '-deadline', 'realtime', vp8);
    assertReencoded(await clean(remuxed('hidden.webm', '-i', vp8, '-i', hiddenOpus, '-map', '0', '-map', '1'), 'webm'), 'opus');
  });

  it('an AVI with a PCM format extension', async () => {
    const wav = w.file('ext.wav');
    ffmpeg(...SOUND, '-c:a', 'pcm_s16le', wav);
    writeFileSync(wav, wavWithFmtExtension(readFileSync(wav), HIDDEN));
    const mpeg4 = w.file('mpeg4.avi');
    ffmpeg(...PICTURE, '-c:v', 'mpeg4', mpeg4);
    assertReencoded(await clean(remuxed('hidden.avi', '-i', mpeg4, '-i', wav, '-map', '0', '-map', '1'), 'avi'), 'pcm_s16le');
  });
});

describe('a phone clip keeps its sound track as it is', () => {
  it('ffmpeg AAC, streamed', async () => {
    const { out, warnings } = await streamCleaned(phone);
    assert.deepEqual(warnings, []);
    const path = w.file('phone-out.mp4');
    writeFileSync(path, out);
    assert.equal(audioPacketsMd5(path), audioPacketsMd5(phone));
  });

  it('iPhone-style AAC (the 2-byte AudioSpecificConfig) in a MOV', async () => {
    const src = w.file('iphone.mov');
    writeFileSync(src, withAsc(readFileSync(phone), () => Buffer.from('1190', 'hex')));
    const out = await clean(src, 'mov');
    assert.deepEqual(out.report.warnings, []);
    assert.equal(audioPacketsMd5(out.path), audioPacketsMd5(src));
  });

  it('MP3 in an AVI whose header fields differ from the ones ffmpeg writes (a camera\'s)', async () => {
    const made = w.file('camera-made.avi');
    ffmpeg(...PICTURE, ...SOUND, '-c:v', 'mpeg4', '-c:a', 'libmp3lame', made);
    const file = readFileSync(made);
    const strf = file.indexOf('strf', file.indexOf('strf') + 4, 'latin1') + 8; // the sound's WAVEFORMATEX
    assert.equal(file.readUInt16LE(strf), 0x55, 'MP3');
    file.writeUInt16LE(0, strf + 18 + 10); // MPEGLAYER3WAVEFORMAT's nCodecDelay
    const src = w.file('camera.avi');
    writeFileSync(src, file);
    const out = await clean(src, 'avi');
    assert.deepEqual(out.report.warnings, [], 'ffmpeg writes that header itself: nothing to re-encode');
    assert.equal(audioPacketsMd5(out.path), audioPacketsMd5(src));
  });

  it('Opus in an MKV', async () => {
    const src = w.file('opus.mkv');
    ffmpeg(...PICTURE, ...SOUND, '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'libopus', src);
    const out = await clean(src, 'mkv');
    assert.deepEqual(out.report.warnings, []);
    assert.equal(audioPacketsMd5(out.path), audioPacketsMd5(src));
  });
});
