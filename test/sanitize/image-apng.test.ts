import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { cleanerFor, sniff } from '../../src/sanitize/index.ts';
import { APNG_WARNING } from '../../src/sanitize/image-apng.ts';
import { MARK, ffmpeg, identifyingTags, markersIn, run, workdir } from './media-fixtures.ts';
import type { Workdir } from './media-fixtures.ts';

let w: Workdir;
before(() => { w = workdir(); });
after(() => w.remove());

describe('animated PNG', () => {
  it('is taken, stays animated frame for frame (as WebP), loses its text chunks, and the editors are told', async () => {
    const src = w.file('anim.png');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=40x20:rate=5', '-t', '1', '-plays', '0', '-f', 'apng', src);
    run('exiftool', ['-q', '-overwrite_original', `-PNG:Comment=${MARK.comment}`, `-PNG:Author=${MARK.artist}`, src]);
    assert.deepEqual(markersIn(src, [MARK.comment, MARK.artist]), [MARK.comment, MARK.artist]);
    const sniffed = await sniff(src);
    assert.equal(sniffed?.ext, 'apng');

    const out = await cleanerFor(sniffed)(src, sniffed!, w.scratch);
    assert.equal(out.ext, 'webp');
    assert.ok(out.report.warnings.includes(APNG_WARNING));
    assert.ok((out.report.removed.comment ?? 0) > 0);
    assert.deepEqual(markersIn(out.path), []);
    assert.deepEqual(identifyingTags(out.path), []);
    const meta = await sharp(out.path, { animated: true }).metadata();
    assert.deepEqual([meta.format, meta.width, meta.pageHeight, meta.pages], ['webp', 40, 20, 5]);
    assert.deepEqual(meta.delay, [200, 200, 200, 200, 200]);
  });
});
