import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cleanAudio } from '../../src/sanitize/audio.ts';
import { CleaningFailed } from '../../src/errors.ts';
import type { Cleaned } from '../../src/sanitize/types.ts';
import {
  MARK, decodesCleanly, drawPhoto, ffmpeg, identifyingTags, markersIn, plantPhotoTags, probe, truncate, workdir,
} from './media-fixtures.ts';
import type { Workdir } from './media-fixtures.ts';

let w: Workdir;
let cover: string;
before(() => {
  w = workdir();
  cover = drawPhoto(w.file('cover.jpg'), 32, 32);
  plantPhotoTags(cover, drawPhoto(w.file('thumb.jpg'), 8, 8));
});
after(() => w.remove());

const clean = (path: string, ext: string): Promise<Cleaned> => cleanAudio(path, { ext, mime: '' }, w.scratch);

/** What a recorder app or a phone writes as tags. */
const RECORDER_TAGS = [
  '-metadata', `artist=${MARK.artist}`, '-metadata', `title=${MARK.title}`, '-metadata', `comment=${MARK.comment}`,
  '-metadata', 'date=2011-11-11', '-metadata', `encoded_by=${MARK.model}`, '-metadata', `location=${MARK.iso6709}`,
];
const TONE = ['-f', 'lavfi', '-i', 'sine=sample_rate=16000:duration=1'];

/** One audio stream, no tags, no planted bytes, same length, and it plays. */
function assertClean(out: Cleaned, durationS: number): void {
  const p = probe(out.path);
  assert.deepEqual(p.streams.map((s) => s.codec_type), ['audio']);
  assert.deepEqual(Object.keys(p.format.tags ?? {}).filter((k) => !/^(major_brand|minor_version|compatible_brands|encoder)$/.test(k)), []);
  for (const s of p.streams) assert.deepEqual(Object.keys(s.tags ?? {}).filter((k) => !/^(language|handler_name|vendor_id|encoder)$/.test(k)), []);
  assert.ok(Math.abs(Number(p.format.duration) - durationS) < 0.15, `duration ${p.format.duration}`);
  assert.deepEqual(identifyingTags(out.path), []);
  assert.deepEqual(markersIn(out.path, [...Object.values(MARK), '2011-11-11', 'Lavf5', 'Lavc5']), []);
  assert.ok(decodesCleanly(out.path), 'plays');
}

describe('voice note cleaner', () => {
  it('an MP3 loses its ID3v2 and ID3v1 tags and its cover picture', async () => {
    const src = w.file('memo.mp3');
    ffmpeg(...TONE, '-i', cover, '-map', '0', '-map', '1', '-c:a', 'libmp3lame', '-c:v', 'copy', '-disposition:v', 'attached_pic',
      '-id3v2_version', '3', '-write_id3v1', '1', ...RECORDER_TAGS, src);
    assert.deepEqual(markersIn(src, [MARK.serial, MARK.artist]).length, 2);
    const out = await clean(src, 'mp3');
    assert.equal(out.ext, 'mp3');
    assertClean(out, 1);
    assert.equal(out.report.removed.cover_art, 1);
    assert.ok((out.report.removed.container_tags ?? 0) >= 4);
  });

  it('an iPhone voice memo (M4A) loses where it was recorded, its tags and its cover', async () => {
    const src = w.file('memo.m4a');
    ffmpeg(...TONE, '-i', cover, '-map', '0', '-map', '1', '-c:a', 'aac', '-flags:a', '+bitexact', '-c:v', 'copy',
      '-disposition:v', 'attached_pic', ...RECORDER_TAGS, '-f', 'ipod', src);
    const out = await clean(src, 'm4a');
    assert.equal(out.ext, 'm4a');
    assertClean(out, 1);
    assert.equal(out.report.removed.cover_art, 1);
  });

  for (const [ext, codec] of [['ogg', 'libvorbis'], ['opus', 'libopus'], ['oga', 'flac']] as const) {
    it(`an Ogg voice note (.${ext}, ${codec}) loses its comments`, async () => {
      const src = w.file(`note.${ext}`);
      ffmpeg(...TONE, '-c:a', codec, ...RECORDER_TAGS, '-f', 'ogg', src);
      assert.deepEqual(markersIn(src, [MARK.artist]), [MARK.artist]);
      const out = await clean(src, ext);
      assert.equal(out.ext, ext);
      assertClean(out, 1);
    });
  }

  it('a FLAC loses its Vorbis comments and its picture block', async () => {
    const src = w.file('take.flac');
    ffmpeg(...TONE, '-i', cover, '-map', '0', '-map', '1', '-c:v', 'copy', '-disposition:v', 'attached_pic', ...RECORDER_TAGS, src);
    const out = await clean(src, 'flac');
    assertClean(out, 1);
    assert.equal(out.report.removed.cover_art, 1);
  });

  it('a WAV loses its INFO list and its broadcast (bext) originator and date', async () => {
    const src = w.file('field.wav');
    ffmpeg(...TONE, ...RECORDER_TAGS, '-write_bext', '1', '-metadata', `originator=${MARK.owner}`,
      '-metadata', `originator_reference=${MARK.serial}`, '-metadata', 'origination_date=2011-11-11', src);
    assert.deepEqual(markersIn(src, [MARK.owner, MARK.serial]).length, 2);
    const out = await clean(src, 'wav');
    assertClean(out, 1);
  });

  it('an ADTS AAC loses the ID3 tag in front of it', async () => {
    const src = w.file('raw.aac');
    ffmpeg(...TONE, '-c:a', 'aac', '-flags:a', '+bitexact', '-write_id3v2', '1', ...RECORDER_TAGS, '-f', 'adts', src);
    assert.deepEqual(markersIn(src, [MARK.artist]), [MARK.artist]);
    const out = await clean(src, 'aac');
    assert.equal(out.ext, 'aac');
    const p = probe(out.path);
    assert.deepEqual(p.streams.map((s) => s.codec_type), ['audio']);
    assert.deepEqual(markersIn(out.path), []);
    assert.ok(decodesCleanly(out.path));
  });

  it('an AMR voice note (no tags to carry) comes through playable', async () => {
    // No AMR encoder here; 12.2 kbit/s frames of noise are still valid AMR-NB to decode.
    const frames = Array.from({ length: 50 }, () => Buffer.concat([Buffer.from([0x3c]), randomBytes(31)]));
    const src = w.file('voice.amr');
    writeFileSync(src, Buffer.concat([Buffer.from('#!AMR\n', 'latin1'), ...frames]));
    const out = await clean(src, 'amr');
    assert.equal(out.ext, 'amr');
    assertClean(out, 1);
  });
});

describe('voice note cleaner refusals', () => {
  it('an M4A cut off before its index is refused, not passed on', async () => {
    const src = w.file('whole.m4a');
    ffmpeg(...TONE, '-c:a', 'aac', src);
    await assert.rejects(clean(truncate(src, w.file('half.m4a')), 'm4a'), CleaningFailed);
  });

  it('bytes that are no audio at all are refused', async () => {
    const src = w.file('noise.mp3');
    writeFileSync(src, randomBytes(4096));
    await assert.rejects(clean(src, 'mp3'), CleaningFailed);
  });
});
