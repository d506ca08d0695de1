import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { cleanImage } from '../../src/sanitize/image.ts';
import { planRewrite } from '../../src/sanitize/image-jpeg-lossless.ts';
import type { Cleaned } from '../../src/sanitize/types.ts';
import { MARK, drawPhoto, identifyingTags, markersIn, plantPhotoTags, run, workdir } from './media-fixtures.ts';
import type { Workdir } from './media-fixtures.ts';

let w: Workdir;
let thumb: string;
before(() => {
  w = workdir();
  thumb = drawPhoto(w.file('thumb.jpg'), 16, 8);
});
after(() => w.remove());

const clean = (path: string): Promise<Cleaned> => cleanImage(path, { ext: 'jpg', mime: 'image/jpeg' }, w.scratch);
const raw = async (path: string, orient = false): Promise<Buffer> =>
  (orient ? sharp(path).autoOrient() : sharp(path)).raw().toBuffer();

/** What a Samsung motion photo appends after the JPEG's end: a whole second file. */
const TRAILER = 'MotionPhoto_Data-TRAILER-QX9';

describe('lossless JPEG path', () => {
  it('an upright phone JPEG keeps its exact pixels and loses its metadata, previews and trailer', async () => {
    const src = drawPhoto(w.file('upright.jpg'), 64, 48);
    plantPhotoTags(src, thumb, { iptc: true });
    run('exiftool', ['-q', '-overwrite_original', `-Comment=${MARK.comment}`, src]);
    appendFileSync(src, Buffer.from(TRAILER, 'latin1'));
    assert.equal(typeof planRewrite(readFileSync(src)), 'object', 'eligible for the lossless path');

    const out = await clean(src);
    assert.deepEqual(identifyingTags(out.path), []);
    assert.deepEqual(markersIn(out.path, [...Object.values(MARK), TRAILER]), []);
    // Pixel-identical: the decoding path re-encodes at quality 92 and could not produce this.
    assert.ok((await raw(out.path)).equals(await raw(src)), 'same pixels');
    const meta = await sharp(out.path).metadata();
    assert.deepEqual([meta.width, meta.height, meta.exif, meta.xmp, meta.iptc, meta.icc], [64, 48, undefined, undefined, undefined, undefined]);
    const removed = out.report.removed;
    for (const c of ['gps', 'exif', 'thumbnail', 'xmp', 'iptc', 'comment', 'trailer']) assert.ok((removed[c] ?? 0) > 0, `report counts ${c}`);
    assert.equal(removed.orientation_applied, undefined);
    // Only the allow-listed segments remain: SOI, our JFIF, then no APPn but APP0 and no COM.
    const bytes = readFileSync(out.path);
    assert.equal(bytes.subarray(bytes.length - 2).toString('hex'), 'ffd9');
    const again = planRewrite(bytes);
    assert.ok(typeof again === 'object');
    assert.deepEqual(again.removed, {});
  });

  it('a portrait JPEG (Orientation 6) is turned losslessly and keeps no orientation tag', async () => {
    const src = drawPhoto(w.file('portrait.jpg'), 64, 32);
    plantPhotoTags(src, thumb, { orientation: 6 });
    const out = await clean(src);
    const meta = await sharp(out.path).metadata();
    assert.deepEqual([meta.width, meta.height, meta.orientation], [32, 64, undefined]);
    assert.deepEqual(identifyingTags(out.path), []);
    assert.deepEqual(markersIn(out.path), []);
    assert.equal(out.report.removed.orientation_applied, 1);
    // jpegtran turns the DCT blocks, so the pixels match the upright decode but for chroma rounding.
    const [a, b] = [await raw(out.path), await raw(src, true)];
    assert.equal(a.length, b.length);
    const meanDiff = a.reduce((s, v, i) => s + Math.abs(v - (b[i] ?? 0)), 0) / a.length;
    assert.ok(meanDiff < 3, `mean difference ${meanDiff}`);
  });

  it('a portrait JPEG whose edges are not whole blocks is decoded instead, still upright', async () => {
    const src = drawPhoto(w.file('ragged.jpg'), 40, 20);
    plantPhotoTags(src, thumb, { orientation: 6 });
    const out = await clean(src);
    const meta = await sharp(out.path).metadata();
    assert.deepEqual([meta.width, meta.height, meta.orientation], [20, 40, undefined]);
    assert.deepEqual(markersIn(out.path), []);
  });

  it('progressive, CMYK and wide-gamut JPEGs are not rewritten losslessly', async () => {
    const base = sharp({ create: { width: 32, height: 32, channels: 3, background: '#336699' } });
    const progressive = await base.clone().jpeg({ progressive: true }).toBuffer();
    const cmyk = await base.clone().toColourspace('cmyk').jpeg().toBuffer();
    const p3 = await base.clone().withIccProfile('p3').jpeg().toBuffer();
    const srgb = await base.clone().withIccProfile('srgb').jpeg().toBuffer();
    assert.equal(typeof planRewrite(progressive), 'string');
    assert.equal(planRewrite(cmyk), 'not greyscale or YCbCr');
    assert.equal(planRewrite(p3), 'non-sRGB profile');
    assert.equal(typeof planRewrite(srgb), 'object', 'an sRGB profile can go without changing a colour');
    assert.equal(planRewrite(progressive.subarray(0, 100)), 'truncated segment');
  });

  it('never throws on 500 damaged copies, and never copies a planted value into a plan', () => {
    const src = drawPhoto(w.file('fuzz.jpg'), 64, 48);
    plantPhotoTags(src, thumb, { iptc: true });
    const good = readFileSync(src);
    let seed = 7;
    // High bits of an LCG: its low bits repeat with a short period.
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return Math.floor((seed / 2 ** 31) * n); };
    let plans = 0;
    for (let i = 0; i < 500; i++) {
      const bad = Buffer.from(good);
      for (let k = 0; k <= rand(3); k++) bad[rand(bad.length)] = rand(256);
      const cut = rand(4) === 0 ? bad.subarray(0, rand(bad.length)) : bad;
      const plan = planRewrite(cut);
      if (typeof plan === 'string') continue;
      plans++;
      const bytes = Buffer.concat(plan.parts);
      for (const m of Object.values(MARK)) assert.equal(bytes.includes(Buffer.from(m, 'latin1')), false, `${m} in mutant ${i}`);
    }
    assert.ok(plans > 100, `${plans} mutants still planned`);
  });
});
