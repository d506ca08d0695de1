import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cleanVideo } from '../../src/sanitize/video.ts';
import { decodesCleanly, ffmpeg, probe, workdir } from './media-fixtures.ts';
import type { Workdir } from './media-fixtures.ts';

let w: Workdir;
before(() => { w = workdir(); });
after(() => w.remove());

/** A one-second test pattern encoded by libx264/libx265, which sign their build and options in an SEI. */
function encoded(name: string, codec: string): string {
  const path = w.file(name);
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '1', '-c:v', codec, ...(codec === 'libx265' ? ['-x265-params', 'log-level=none'] : []), path);
  return path;
}

const has = (path: string, s: string): boolean => readFileSync(path).includes(Buffer.from(s, 'latin1'));

describe('encoder signatures inside the video bitstream', () => {
  for (const [codec, ext, signature] of [['libx265', 'mp4', 'x265'], ['libx265', 'mov', 'x265'], ['libx265', 'mkv', 'x265'], ['libx264', 'mp4', 'x264'], ['libx264', 'mov', 'x264']] as const) {
    it(`${codec} in ${ext.toUpperCase()}: "${signature}" is gone from frames and decoder configuration, every frame still decodes`, async () => {
      const src = encoded(`${codec}.${ext}`, codec);
      assert.ok(has(src, signature), 'the encoder signed the file');
      const out = await cleanVideo(src, { ext, mime: '' }, w.scratch);
      assert.equal(has(out.path, signature), false);
      assert.ok(decodesCleanly(out.path));
      const [before, after] = [probe(src).streams[0], probe(out.path).streams[0]];
      assert.deepEqual([after?.codec_name, after?.width, after?.height], [before?.codec_name, 320, 240]);
      if (codec === 'libx265') assert.ok((out.report.removed.sei ?? 0) > 0, 'the hvcC SEI is reported');
    });
  }
});
