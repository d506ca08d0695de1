/**
 * Decoder bombs: files small on the wire that ask a decoder for gigabytes. Each is refused from its
 * header (or by the zip limits) before anything is inflated, with 422 naming the file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHostile, expectRefused, expectCleaned, postTip, type Hostile, type Lang } from './harness.ts';
import { docx, floodPng, gifBomb, tiffBomb, webpBomb, zeroPng, zipOf, DOCX_TYPES } from './craft.ts';

let h: Hostile;
before(async () => { h = await startHostile(); });
after(async () => h.stop());

function sendFile(bytes: Buffer, name: string, lang: Lang = 'es') {
  return async () => postTip(h, lang).field('note', 'mira esto').attach('files', bytes, name);
}

const refusedAs422 = async (bytes: Buffer, name: string, lang: Lang = 'es') => {
  const message = await expectRefused(h, { status: 422, code: 'cleaning_failed', lang }, sendFile(bytes, name, lang));
  assert.ok(message.includes(name), `the message names ${name}: ${message}`);
};

test('a pixel-flood PNG declaring 50000×50000 in a 66-byte file is refused with 422 before decoding', async () => {
  await refusedAs422(floodPng(50000, 50000), 'flood.png');
});

test('a pixel-flood PNG at the format\'s maximum (2^31-1 square) is refused with 422, in English with ?lang=en', async () => {
  await refusedAs422(floodPng(0x7fffffff, 0x7fffffff), 'max.png', 'en');
});

test('a PNG whose IDAT inflates to 400 MB of zeros (20000×20000) is refused with 422 without inflating it', async () => {
  await refusedAs422(zeroPng(20000, 20000), 'zeros.png');
});

test('a PNG declaring 1×1 whose IDAT inflates to 64 MB of extra rows is cleaned to one pixel in bounded memory', async () => {
  await expectCleaned(h, sendFile(zeroPng(1, 1, 8, 0, { rows: 32 * 1024 * 1024 }), 'long.png'), ([png]) => {
    assert.ok(png && png.length < 1024, `delivered ${png?.length} bytes`);
  });
});

test('a 16-bit RGBA PNG just under the pixel cap (800 MB once decoded) is cleaned in bounded memory', async () => {
  await expectCleaned(h, sendFile(zeroPng(9999, 9999, 16, 6), 'deep.png'));
});

test('a GIF whose screen and frame are 65535×65535 is refused with 422', async () => {
  await refusedAs422(gifBomb(65535, 65535, 1), 'pantalla.gif');
});

test('an animated GIF of 200 frames of 2000×2000 (800 Mpx in 5 KB) is refused with 422', async () => {
  await refusedAs422(gifBomb(2000, 2000, 200), 'animada.gif', 'en');
});

test('a WebP whose lossless header claims 16383×16383 is refused with 422', async () => {
  await refusedAs422(await webpBomb(16383, 16383), 'bomba.webp');
});

test('a WebP whose header claims a size past the format\'s maximum is refused with 422', async () => {
  await refusedAs422(await webpBomb(16384, 16384), 'fuera.webp');
});

test('a TIFF declaring 100000×100000 with an 8-byte strip is refused with 422', async () => {
  await refusedAs422(tiffBomb(100_000, 100_000), 'escaneo.tif');
});

test('a TIFF of 401 pages of 1000×1000 (401 Mpx in 44 KB) is refused with 422', async () => {
  await refusedAs422(tiffBomb(1000, 1000, 401), 'paginas.tif');
});

test('a zip-bomb DOCX (a 50 MB part of zeros, 1000:1) is refused with 422 before inflating', async () => {
  await refusedAs422(await docx([{ name: 'word/media/zeros.xml', data: Buffer.alloc(50 * 1024 * 1024) }]), 'informe.docx');
});

test('a DOCX of 2500 parts is refused with 422 from the central directory', async () => {
  const parts = Array.from({ length: 2500 }, (_, i) => ({ name: `word/p${i}.xml`, data: '<a/>' }));
  await refusedAs422(await docx(parts), 'partes.docx', 'en');
});

test('a DOCX nesting DOCX three deep (42.zip style) is refused with 422', async () => {
  let inner = await docx();
  for (const n of ['a', 'b', 'c']) inner = await docx([{ name: `word/embeddings/${n}.docx`, data: inner }]);
  await refusedAs422(inner, 'anidado.docx');
});

test('a DOCX whose central directory understates a part\'s size is refused with 422 when the part inflates larger', async () => {
  const bytes = await docx([{ name: 'word/extra.xml', data: Buffer.alloc(4 * 1024 * 1024, 0x41) }]);
  // The last central-directory entry is word/extra.xml: its uncompressed size is at offset 24.
  const cd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  bytes.writeUInt32LE(100, cd + 24);
  const local = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
  bytes.writeUInt32LE(100, local + 22);
  await refusedAs422(bytes, 'miente.docx');
});

test('a DOCX of 201 parts of 1 MiB (each too small for the ratio check) declaring 201 MiB in all is refused with 422', async () => {
  const zero = Buffer.alloc(1024 * 1024);
  const parts = Array.from({ length: 201 }, (_, i) => ({ name: `word/z${i}.xml`, data: zero }));
  await refusedAs422(await zipOf([{ name: '[Content_Types].xml', data: DOCX_TYPES }, { name: 'word/document.xml', data: '<w/>' }, ...parts]), 'total.docx');
});

test('a DOCX with a pixel-flood picture inside is delivered with a blank in its place, in bounded memory', async () => {
  await expectCleaned(h, sendFile(await docx([{ name: 'word/media/image1.png', data: floodPng(50000, 50000) }]), 'foto.docx'));
});
