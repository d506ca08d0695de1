/**
 * Broken and lying files: truncated, with absurd box sizes, polyglots, and MIME lies. A file we take
 * but cannot clean is refused with 422; a file we do not take at all, whatever its name or declared
 * type, with 415; a polyglot whose extra part a re-encode drops is delivered without it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHostile, expectRefused, expectCleaned, postTip, type Hostile, type Lang } from './harness.ts';
import { box, docx, realJpeg, realMp4, realPng, zeroPng, zipOf, DOCX_TYPES } from './craft.ts';

let h: Hostile;
let jpeg: Buffer;
let png: Buffer;
let mp4: Buffer;
let moovAt: number;
before(async () => {
  h = await startHostile();
  [jpeg, png, mp4] = [await realJpeg(), await realPng(), realMp4()];
  moovAt = mp4.readUInt32BE(0);
  assert.equal(mp4.subarray(moovAt + 4, moovAt + 8).toString('latin1'), 'moov', 'faststart: moov right after ftyp');
});
after(async () => h.stop());

function sendFile(bytes: Buffer, name: string, lang: Lang = 'es', contentType?: string) {
  return async () => postTip(h, lang).attach('files', bytes, contentType ? { filename: name, contentType } : name);
}
async function refused(status: 415 | 422, bytes: Buffer, name: string, lang: Lang = 'es', contentType?: string): Promise<void> {
  const code = status === 415 ? 'unsupported_type' : 'cleaning_failed';
  const message = await expectRefused(h, { status, code, lang }, sendFile(bytes, name, lang, contentType));
  assert.ok(message.includes(name), `the message names ${name}: ${message}`);
}
const patched = (b: Buffer, at: number, value: number): Buffer => { const c = Buffer.from(b); c.writeUInt32BE(value >>> 0, at); return c; };

test('a JPEG cut in half is refused with 422', async () => {
  await refused(422, jpeg.subarray(0, jpeg.length >> 1), 'cortada.jpg');
});

test('a JPEG of its first 24 bytes (markers, no image) is refused with 422, in English', async () => {
  await refused(422, jpeg.subarray(0, 24), 'header.jpg', 'en');
});

test('a JPEG start marker followed by random bytes is refused with 422', async () => {
  const junk = Buffer.alloc(4096);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 2654435761) >>> 24;
  await refused(422, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), junk]), 'ruido.jpg');
});

test('a PNG missing its last 20 bytes (IEND and part of IDAT) is refused with 422', async () => {
  await refused(422, png.subarray(0, png.length - 20), 'cortada.png');
});

test('a PNG whose IDAT holds 10 of its 4000 declared rows is refused with 422', async () => {
  await refused(422, zeroPng(4000, 4000, 8, 0, { rows: 10 }), 'filas.png');
});

test('a PNG with a corrupted IDAT (bad checksum) is refused with 422', async () => {
  const bad = Buffer.from(png);
  const idat = bad.indexOf('IDAT', 8, 'latin1');
  bad[idat + 8] = bad[idat + 8]! ^ 0xff;
  await refused(422, bad, 'crc.png', 'en');
});

test('an MP4 cut in half (moov promises samples the file lacks) is refused with 422', async () => {
  await refused(422, mp4.subarray(0, mp4.length >> 1), 'cortado.mp4');
});

test('an MP4 of its first 64 bytes is refused with 422', async () => {
  await refused(422, mp4.subarray(0, 64), 'inicio.mp4', 'en');
});

test('an MP4 whose moov box says it is 4 bytes long (less than its own header) is refused with 422', async () => {
  await refused(422, patched(mp4, moovAt, 4), 'caja.mp4');
});

test('an MP4 whose sample-size table claims a billion samples is refused with 422', async () => {
  const stsz = mp4.indexOf('stsz', 0, 'latin1');
  await refused(422, patched(mp4, stsz + 12, 0x3fffffff), 'muestras.mp4');
});

test('an MP4 with a size-1 moov box and no 64-bit size after it is refused with 422', async () => {
  await refused(422, Buffer.concat([mp4.subarray(0, moovAt), box('moov', Buffer.alloc(0), 1), Buffer.alloc(4096)]), 'largo.mp4');
});

test('an MP4 whose moov claims 4 GiB in a 3 KB file is read to its end and delivered as a fresh remux', async () => {
  await expectCleaned(h, sendFile(patched(mp4, moovAt, 0xfffffff0), 'moov.mp4'), ([v]) => {
    assert.equal(v?.subarray(4, 8).toString('latin1'), 'ftyp');
  });
});

test('an MP4 whose moov declares a 64-bit size of 2^63 is delivered as a fresh remux in bounded memory', async () => {
  const huge = Buffer.concat([mp4.subarray(0, moovAt), Buffer.from([0, 0, 0, 1]), Buffer.from('moov', 'latin1'),
    Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), mp4.subarray(moovAt + 8)]);
  await expectCleaned(h, sendFile(huge, 'enorme.mp4'));
});

test('a JPEG+ZIP polyglot is delivered as a plain JPEG: the ZIP after the image is gone', async () => {
  const zip = await zipOf([{ name: 'payload.exe', data: 'MZ-POLYGLOT-PAYLOAD' }], false);
  await expectCleaned(h, sendFile(Buffer.concat([jpeg, zip]), 'poliglota.jpg'), ([out]) => {
    assert.ok(out, 'one file delivered');
    assert.equal(out.indexOf('MZ-POLYGLOT-PAYLOAD'), -1, 'the ZIP payload survived');
    assert.equal(out.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04])), -1, 'a ZIP header survived');
    assert.deepEqual([...out.subarray(-2)], [0xff, 0xd9], 'ends as a JPEG');
  });
});

test('a ZIP+JPEG polyglot (ZIP first) is sniffed as a ZIP and refused with 415', async () => {
  await refused(415, Buffer.concat([await zipOf([{ name: 'a.txt', data: 'hola' }]), jpeg]), 'foto.jpg');
});

test('a PDF+HTML polyglot (a PDF header over an HTML page with a script) is refused with 422', async () => {
  const body = Buffer.from('%PDF-1.4\n<html><body><script>alert(document.domain)</script></body></html>\n%%EOF\n');
  await refused(422, body, 'documento.pdf', 'es', 'application/pdf');
});

test('an HTML page with a PDF inside it (HTML first) is refused with 415', async () => {
  await refused(415, Buffer.from('<!doctype html><script>alert(1)</script>\n%PDF-1.4\n%%EOF\n'), 'pagina.pdf', 'en', 'application/pdf');
});

test('an ELF executable named .jpg and sent as image/jpeg is refused with 415', async () => {
  const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(1016)]);
  await refused(415, elf, 'vacaciones.jpg', 'es', 'image/jpeg');
});

test('a Windows executable named .pdf is refused with 415', async () => {
  const pe = Buffer.concat([Buffer.from('MZ', 'latin1'), Buffer.alloc(58), Buffer.from([0x40, 0, 0, 0]), Buffer.from('PE\0\0', 'latin1'), Buffer.alloc(512)]);
  await refused(415, pe, 'factura.pdf', 'es', 'application/pdf');
});

test('a shell script named .mp4 and sent as video/mp4 is refused with 415', async () => {
  await refused(415, Buffer.from('#!/bin/sh\nrm -rf / --no-preserve-root\n'), 'video.mp4', 'en', 'video/mp4');
});

test('an SVG with a script, named .png, is refused with 415', async () => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
  await refused(415, Buffer.from(svg), 'logo.png', 'es', 'image/png');
});

test('a bare ZIP named .docx is refused with 415', async () => {
  await refused(415, await zipOf([{ name: 'notes.txt', data: 'hola' }]), 'carta.docx');
});

test('a DOCX without its main document part is refused with 422', async () => {
  await refused(422, await zipOf([{ name: '[Content_Types].xml', data: DOCX_TYPES }, { name: 'word/styles.xml', data: '<w/>' }]), 'sin-cuerpo.docx');
});

test('a DOCX cut before its central directory is refused with 422', async () => {
  const whole = await docx([{ name: 'word/extra.xml', data: Buffer.alloc(20_000, 0x20) }]);
  await refused(422, whole.subarray(0, whole.length - 200), 'cortado.docx', 'en');
});
