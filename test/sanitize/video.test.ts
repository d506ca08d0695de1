import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { cleanVideo } from '../../src/sanitize/video.ts';
import { CleaningFailed } from '../../src/errors.ts';
import type { Cleaned } from '../../src/sanitize/types.ts';
import {
  MARK, decodesCleanly, drawPhoto, ffmpeg, identifyingTags, markersIn, plantPhotoTags, probe, truncate, workdir,
} from './media-fixtures.ts';
import type { Workdir } from './media-fixtures.ts';

let w: Workdir;
let srt: string;
let chapters: string;
let cover: string;
before(() => {
  w = workdir();
  srt = w.file('telemetry.srt');
  writeFileSync(srt, `1\n00:00:00,000 --> 00:00:01,000\n${MARK.subtitle} 40.4168 -3.7038\n`);
  chapters = w.file('chapters.txt');
  writeFileSync(chapters, `;FFMETADATA1\ntitle=${MARK.title}\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=CHAPTER-QX9\n`);
  cover = drawPhoto(w.file('cover.jpg'), 32, 32);
  plantPhotoTags(cover, drawPhoto(w.file('thumb.jpg'), 8, 8));
});
after(() => w.remove());

const clean = (path: string, ext: string): Promise<Cleaned> => cleanVideo(path, { ext, mime: '' }, w.scratch);

/** What a phone writes into the container, in the keys ffmpeg can plant. */
const PHONE_TAGS = [
  '-metadata', `com.apple.quicktime.location.ISO6709=${MARK.iso6709}`,
  '-metadata', `com.apple.quicktime.make=${MARK.make}`,
  '-metadata', `com.apple.quicktime.model=${MARK.model}`,
  '-metadata', `location=${MARK.iso6709}`,
  '-metadata', `artist=${MARK.artist}`,
  '-metadata', `comment=${MARK.comment}`,
  '-metadata', 'creation_time=2011-11-11T11:11:11Z',
  '-metadata:s:0', `title=${MARK.serial}`,
];
const LAVFI = ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-f', 'lavfi', '-i', 'sine=sample_rate=8000'];
// The fixture's own AAC encoder is kept from writing its version into the audio frames, so that a
// "Lavc5x" found in the output can only have come from the cleaner.
const H264 = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-flags:a', '+bitexact'];

/** The cleaned video has one video and one audio stream, no tags or planted bytes, and plays. */
function assertClean(out: Cleaned, size: [number, number]): void {
  const p = probe(out.path);
  assert.deepEqual(p.streams.map((s) => s.codec_type).sort(), ['audio', 'video']);
  assert.deepEqual(p.chapters, []);
  assert.deepEqual(Object.keys(p.format.tags ?? {}).filter((k) => !/^(major_brand|minor_version|compatible_brands|encoder|ENCODER)$/.test(k)), []);
  for (const s of p.streams) {
    // A re-encoded stream is labelled with ffmpeg's bare codec name ("Lavc libvorbis"), nothing more.
    const tags = Object.entries(s.tags ?? {}).filter(([k, v]) => !/^(language|handler_name|vendor_id|DURATION)$/.test(k) && !(/^encoder$/i.test(k) && /^Lavc [a-z0-9_]+$/.test(v)));
    assert.deepEqual(tags, [], `stream ${s.codec_type} tags`);
    assert.ok(!s.tags?.handler_name, 'handler name blank');
  }
  const video = p.streams.find((s) => s.codec_type === 'video');
  assert.deepEqual([video?.width, video?.height], size);
  assert.ok(Math.abs(Number(p.format.duration) - 1) < 0.2, `duration ${p.format.duration}`);
  assert.deepEqual(identifyingTags(out.path), []);
  assert.deepEqual(markersIn(out.path, [...Object.values(MARK), '2011-11-11', 'x264 - core', 'Lavf5', 'Lavc5']), []);
  assert.ok(decodesCleanly(out.path), 'plays');
}

describe('video cleaner', () => {
  it("an iPhone MOV loses its location, camera, telemetry, chapters, timecode and the encoder's SEI", async () => {
    const src = w.file('iphone.mov');
    ffmpeg(...LAVFI, '-i', srt, '-i', chapters, '-t', '1',
      '-map', '0:v', '-map', '1:a', '-map', '2', '-map_metadata', '3', '-map_chapters', '3',
      ...H264, '-c:s', 'mov_text', '-movflags', 'use_metadata_tags', ...PHONE_TAGS, '-timecode', '11:11:11:00', src);
    assert.deepEqual(markersIn(src, [MARK.iso6709, MARK.subtitle, MARK.serial, 'x264 - core']).length, 4);
    const out = await clean(src, 'mov');
    assert.equal(out.ext, 'mov');
    assertClean(out, [64, 48]);
    const r = out.report.removed;
    assert.equal(r.subtitle, 1);
    assert.ok((r.data ?? 0) >= 1, 'timecode/chapter data tracks counted');
    assert.ok((r.container_tags ?? 0) >= 5);
    assert.equal(r.chapters, 1);
  });

  it('an MP4 loses its location, cover art (with its EXIF), telemetry subtitles, chapters and timecode', async () => {
    const src = w.file('android.mp4');
    ffmpeg(...LAVFI, '-i', srt, '-i', cover, '-i', chapters, '-t', '1', '-map', '0:v', '-map', '1:a', '-map', '2', '-map', '3',
      '-map_metadata', '4', '-map_chapters', '4', ...H264, '-c:s', 'mov_text', '-c:v:1', 'copy', '-disposition:v:1', 'attached_pic',
      ...PHONE_TAGS, '-timecode', '11:11:11:00', src); // (Apple mdta keys would replace the covr atom; the MOV test has them.)
    assert.ok(probe(src).streams.some((s) => s.disposition?.attached_pic === 1), 'fixture has cover art');
    const out = await clean(src, 'mp4');
    assert.equal(out.ext, 'mp4');
    assertClean(out, [64, 48]);
    assert.equal(out.report.removed.subtitle, 1);
    assert.equal(out.report.removed.cover_art, 1);
  });

  for (const ext of ['m4v', '3gp'] as const) {
    it(`a ${ext.toUpperCase()} loses its tags and stays ${ext.toUpperCase()}`, async () => {
      const src = w.file(`clip.${ext}`);
      ffmpeg(...LAVFI, '-t', '1', ...H264, '-f', ext === 'm4v' ? 'ipod' : '3gp', ...PHONE_TAGS.slice(6), '-metadata', `title=${MARK.title}`, src);
      const out = await clean(src, ext);
      assert.equal(out.ext, ext);
      assertClean(out, [64, 48]);
    });
  }

  it('a WebM loses its tags and subtitle track', async () => {
    const src = w.file('clip.webm');
    ffmpeg(...LAVFI, '-i', srt, '-t', '1', '-map', '0:v', '-map', '1:a', '-map', '2', '-c:v', 'libvpx', '-c:a', 'libopus',
      '-c:s', 'webvtt', ...PHONE_TAGS.slice(6), '-metadata', `title=${MARK.title}`, '-metadata:s:1', `title=${MARK.owner}`, src);
    const out = await clean(src, 'webm');
    assert.equal(out.ext, 'webm');
    assertClean(out, [64, 48]);
    assert.equal(out.report.removed.subtitle, 1);
  });

  it('an MKV loses its attachment, subtitles, chapters and tags, and its Vorbis comments', async () => {
    const src = w.file('clip.mkv');
    const vorbis = w.file('tagged.ogg');
    const notes = w.file('notes.bin');
    writeFileSync(notes, `${MARK.serial} field notes`);
    ffmpeg('-f', 'lavfi', '-i', 'sine=sample_rate=8000', '-t', '1', '-c:a', 'libvorbis', '-metadata', `artist=${MARK.artist}`, vorbis);
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-i', vorbis, '-i', srt, '-i', chapters, '-t', '1',
      '-map', '0:v', '-map', '1:a', '-map', '2', '-map_metadata', '3', '-map_chapters', '3',
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'copy', '-c:s', 'srt',
      '-attach', notes, '-metadata:s:t', 'mimetype=application/octet-stream', '-metadata:s:t', `filename=${MARK.owner}.bin`, ...PHONE_TAGS.slice(6), src);
    assert.deepEqual(markersIn(src, [MARK.artist, MARK.serial]).length, 2);
    const out = await clean(src, 'mkv');
    assert.equal(out.ext, 'mkv');
    assertClean(out, [64, 48]);
    assert.equal(out.report.removed.attachment, 1);
    assert.equal(out.report.removed.subtitle, 1);
  });

  it('an AVI of MJPEG frames, each with EXIF, is re-encoded without it', async () => {
    const frames = w.file('frame-%02d.jpg');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-t', '1', frames);
    for (let i = 1; i <= 10; i++) plantPhotoTags(w.file(`frame-${String(i).padStart(2, '0')}.jpg`), w.file('thumb.jpg'));
    const src = w.file('camera.avi');
    ffmpeg('-framerate', '10', '-i', frames, '-f', 'lavfi', '-i', 'sine=sample_rate=8000', '-t', '1', '-c:v', 'copy', '-c:a', 'pcm_s16le',
      '-metadata', `artist=${MARK.artist}`, '-metadata', `title=${MARK.title}`, src);
    assert.deepEqual(markersIn(src, [MARK.serial]), [MARK.serial]);
    const out = await clean(src, 'avi');
    assert.equal(out.ext, 'avi');
    assertClean(out, [64, 48]);
    assert.ok(out.report.warnings.some((m) => m.includes('MJPEG')));
  });
});

describe('video cleaner refusals', () => {
  it('a truncated MP4 is refused, not passed on', async () => {
    const src = w.file('whole.mp4');
    ffmpeg(...LAVFI, '-t', '2', ...H264, src);
    await assert.rejects(clean(truncate(src, w.file('half.mp4')), 'mp4'), CleaningFailed);
  });

  it('a file with no audio or video (only subtitles) is refused', async () => {
    const src = w.file('subs-only.mkv');
    ffmpeg('-i', srt, src);
    await assert.rejects(clean(src, 'mkv'), CleaningFailed);
  });
});
