import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { Metadata } from 'sharp';
import { cleanImage } from '../../src/sanitize/image.ts';
import { CleaningFailed } from '../../src/errors.ts';
import type { Cleaned } from '../../src/sanitize/types.ts';
import {
  MARK, drawPhoto, exifOf, ffmpeg, identifyingTags, markersIn, plantPhotoTags, run, truncate, workdir,
} from './media-fixtures.ts';
import type { Workdir } from './media-fixtures.ts';

let w: Workdir;
let thumb: string;
before(() => {
  w = workdir();
  thumb = drawPhoto(w.file('thumb.jpg'), 16, 8);
});
after(() => w.remove());

const clean = (path: string, ext: string): Promise<Cleaned> => cleanImage(path, { ext, mime: '' }, w.scratch);

/** The cleaned photo has no identifying tag, no planted byte, and decodes. */
async function assertClean(out: Cleaned): Promise<Metadata> {
  assert.deepEqual(identifyingTags(out.path), []);
  assert.deepEqual(markersIn(out.path), []);
  const meta = await sharp(out.path).metadata();
  assert.equal(meta.exif, undefined);
  assert.equal(meta.xmp, undefined);
  assert.equal(meta.iptc, undefined);
  assert.equal(meta.icc, undefined);
  return meta;
}

describe('photo cleaner', () => {
  it("a JPEG's GPS, camera, owner and thumbnail are gone and it still shows upright", async () => {
    const src = drawPhoto(w.file('portrait.jpg'), 40, 20);
    plantPhotoTags(src, thumb, { orientation: 6, iptc: true });
    run('exiftool', ['-q', '-overwrite_original', `-Comment=${MARK.comment}`, src]);
    assert.equal(exifOf(src)['GPS:GPSLatitudeRef'], 'North');

    const out = await clean(src, 'jpg');
    assert.equal(out.ext, 'jpg');
    assert.equal(out.kind, 'photo');
    const meta = await assertClean(out);
    assert.equal(meta.width, 20);
    assert.equal(meta.height, 40);
    assert.equal(meta.orientation, undefined);
    for (const c of ['gps', 'exif', 'thumbnail', 'xmp', 'iptc', 'comment', 'orientation_applied']) {
      assert.ok((out.report.removed[c] ?? 0) > 0, `report counts ${c}`);
    }
  });

  it('a PNG loses its text, eXIf and tIME chunks and keeps its size', async () => {
    const src = drawPhoto(w.file('screen.png'), 40, 20);
    plantPhotoTags(src, thumb);
    run('exiftool', ['-q', '-overwrite_original', `-PNG:Comment=${MARK.comment}`, `-PNG:Author=${MARK.artist}`, '-PNG:ModifyDate=2011:11:11 11:11:11', src]);
    const out = await clean(src, 'png');
    const meta = await assertClean(out);
    assert.equal(meta.format, 'png');
    assert.deepEqual([meta.width, meta.height], [40, 20]);
    assert.ok((out.report.removed.png_time ?? 0) > 0);
    assert.ok((out.report.removed.comment ?? 0) > 0);
  });

  it('a WebP photo loses its EXIF and XMP chunks', async () => {
    const src = drawPhoto(w.file('photo.webp'), 40, 20);
    plantPhotoTags(src, thumb);
    const out = await clean(src, 'webp');
    const meta = await assertClean(out);
    assert.equal(meta.format, 'webp');
    assert.ok((out.report.removed.gps ?? 0) > 0);
  });

  it('an animated GIF stays animated, frame for frame, without its comment and XMP', async () => {
    const src = w.file('anim.gif');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=40x20:rate=5', '-t', '1', src);
    run('exiftool', ['-q', '-overwrite_original', `-Comment=${MARK.comment}`, `-XMP-dc:Creator=${MARK.xmp}`, src]);
    const before = await sharp(src, { animated: true }).metadata();
    const out = await clean(src, 'gif');
    const meta = await assertClean(out);
    assert.equal(meta.format, 'gif');
    assert.equal(meta.pages, before.pages);
    assert.ok((meta.pages ?? 0) > 1);
    assert.deepEqual(meta.delay, before.delay);
  });

  it('an animated WebP stays animated, with its delays', async () => {
    const src = w.file('anim.webp');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=40x20:rate=5', '-t', '1', '-loop', '0', '-c:v', 'libwebp_anim', src);
    run('exiftool', ['-q', '-overwrite_original', `-XMP-dc:Creator=${MARK.xmp}`, `-Artist=${MARK.artist}`, src]);
    const before = await sharp(src, { animated: true }).metadata();
    const out = await clean(src, 'webp');
    const meta = await assertClean(out);
    assert.ok((meta.pages ?? 0) > 1);
    assert.equal(meta.pages, before.pages);
    assert.deepEqual(meta.delay, before.delay);
  });

  it('a TIFF scan loses its camera, owner and GPS tags', async () => {
    const src = drawPhoto(w.file('scan.tif'), 40, 20);
    plantPhotoTags(src, thumb, { iptc: true });
    const out = await clean(src, 'tif');
    assert.deepEqual(markersIn(out.path), []);
    assert.deepEqual(identifyingTags(out.path).filter((t) => t !== 'IFD0:Orientation'), []);
    const meta = await sharp(out.path).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['tiff', 40, 20]);
  });

  it('an iPhone-style HEIC is delivered as a clean JPEG, and the editors are told', async () => {
    const dirty = drawPhoto(w.file('iphone.jpg'), 40, 20);
    plantPhotoTags(dirty, thumb);
    const src = w.file('iphone.heic');
    run('heif-enc', ['-q', '90', '-o', src, dirty]);
    assert.deepEqual(markersIn(src, [MARK.serial]), [MARK.serial], 'heif-enc carried the EXIF over');
    const out = await clean(src, 'heic');
    assert.equal(out.ext, 'jpg');
    assert.ok(out.report.warnings.includes('HEIC delivered as JPEG'));
    assert.ok((out.report.removed.gps ?? 0) > 0);
    const meta = await assertClean(out);
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 40, 20]);
  });

  it('a HEIC whose EXIF says "rotate" but whose HEIF boxes do not is not turned sideways', async () => {
    // HEIF readers follow irot, not EXIF; rotating by both would spin every iPhone portrait twice.
    const dirty = drawPhoto(w.file('exif-only.jpg'), 40, 20);
    plantPhotoTags(dirty, thumb, { orientation: 6 });
    const src = w.file('exif-only.heic');
    run('heif-enc', ['-q', '90', '-o', src, dirty]);
    const meta = await assertClean(await clean(src, 'heic'));
    assert.deepEqual([meta.width, meta.height], [40, 20]);
  });

  it('an AVIF stays AVIF without its EXIF and XMP', async () => {
    const src = w.file('photo.avif');
    await sharp({ create: { width: 40, height: 20, channels: 3, background: '#336699' } }).avif().toFile(src);
    run('exiftool', ['-q', '-m', '-overwrite_original', `-Artist=${MARK.artist}`, `-SerialNumber=${MARK.serial}`, `-XMP-dc:Creator=${MARK.xmp}`, src]);
    assert.deepEqual(markersIn(src, [MARK.serial]), [MARK.serial]);
    const out = await clean(src, 'avif');
    const meta = await assertClean(out);
    assert.deepEqual([meta.format, meta.width, meta.height], ['heif', 40, 20]);
  });

  it("a wide-gamut photo's profile is dropped and its colours converted to sRGB", async () => {
    const src = w.file('p3.jpg');
    await sharp({ create: { width: 40, height: 20, channels: 3, background: '#ff0000' } }).withIccProfile('p3').jpeg().toFile(src);
    assert.ok((await sharp(src).metadata()).icc);
    const out = await clean(src, 'jpg');
    await assertClean(out);
    assert.equal(out.report.removed.icc_converted, 1);
    const { data } = await sharp(out.path).raw().toBuffer({ resolveWithObject: true });
    // P3 red is outside sRGB: converted, it clips to pure red rather than staying a duller P3 value.
    assert.ok((data[0] ?? 0) > 240 && (data[1] ?? 255) < 40, 'red stays red');
  });
});

describe('photo cleaner refusals', () => {
  it('a truncated JPEG is refused, not passed on', async () => {
    const src = drawPhoto(w.file('whole.jpg'), 400, 300);
    plantPhotoTags(src, thumb);
    await assert.rejects(clean(truncate(src, w.file('half.jpg')), 'jpg'), CleaningFailed);
  });

  it('a truncated PNG is refused, not passed on', async () => {
    const src = drawPhoto(w.file('whole.png'), 400, 300);
    await assert.rejects(clean(truncate(src, w.file('half.png')), 'png'), CleaningFailed);
  });

  it('a PNG that declares 50000×50000 pixels is refused before it is decoded', async () => {
    const src = w.file('flood.png');
    writeFileSync(src, pixelFloodPng(50_000, 50_000));
    await assert.rejects(clean(src, 'png'), CleaningFailed);
  });
});

/** A tiny PNG whose header claims a huge image: the classic decompression bomb shape. */
function pixelFloodPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const idat = deflateSync(Buffer.alloc(64 * 1024));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
