/**
 * A remux copies every sample its tables list. An MP4 that lists one ~1.7 MiB frame 60 times asks
 * for ~100 MiB of output from a 1.7 MiB upload: ffmpeg stops at the output cap (`-fs`, the input's
 * size plus 64 MiB) and the video is refused, rather than filling the vault (or the pipe into the
 * seal, where the filesystem's own limit does not apply) with copies.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { cleanVideo } from '../../src/sanitize/video.ts';
import { CleaningFailed } from '../../src/errors.ts';
import { repeatedSampleMp4 } from '../support/mp4-repeat.ts';
import { ffmpeg, workdir, type Workdir } from './media-fixtures.ts';

let w: Workdir;
before(() => { w = workdir(); });
after(() => w.remove());

test('the crafted file is what it claims: 60 samples, and a plain remux of it is ~60× its size', () => {
  const input = repeatedSampleMp4(w.dir, 60);
  const plain = w.file('plain.mp4');
  ffmpeg('-i', input, '-c', 'copy', '-movflags', 'frag_keyframe+empty_moov', '-f', 'mp4', plain);
  const size = statSync(plain).size;
  rmSync(plain);
  assert.ok(size > 50 * statSync(input).size, 'the amplification is real');
});

test('a video whose remux would outgrow its input by more than 64 MiB is refused, and no output is kept', async () => {
  const input = repeatedSampleMp4(w.dir, 60);
  const before = new Set(readdirSync(w.dir));
  await assert.rejects(cleanVideo(input, { ext: 'mp4', mime: 'video/mp4' }, w.scratch), (e: unknown) => {
    assert.ok(e instanceof CleaningFailed, String(e));
    assert.equal(e.reason, 'the remuxed video is larger than allowed');
    return true;
  });
  assert.deepEqual(readdirSync(w.dir).filter((n) => !before.has(n)), [], 'the partial output was removed');
});
