/**
 * Hostile files built by hand, byte by byte, so each lies exactly where we mean it to: a header that
 * declares billions of pixels, a deflate stream of nothing but zeros, a box that claims to be larger
 * than the file. Nothing is checked in; everything is small on the wire.
 */
import { crc32, deflateRawSync, constants } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import yazl from 'yazl';

const u32be = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };

export function pngChunk(type: string, data: Buffer): Buffer {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  return Buffer.concat([u32be(data.length), td, u32be(crc32(td))]);
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** colorType 0 = grey, 2 = RGB, 6 = RGBA. */
export function ihdr(width: number, height: number, bitDepth = 8, colorType = 0): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d[8] = bitDepth;
  d[9] = colorType;
  return pngChunk('IHDR', d);
}

/**
 * A zlib stream that inflates to `total` zero bytes, built from one compressed MiB repeated: each
 * piece is flushed to a byte boundary with no back-references, so pieces can be concatenated.
 */
export function zerosZlib(total: number): Buffer {
  const MiB = 1024 * 1024;
  const piece = deflateRawSync(Buffer.alloc(MiB), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const restLen = total % MiB;
  const rest = restLen ? deflateRawSync(Buffer.alloc(restLen), { level: 9, finishFlush: constants.Z_FULL_FLUSH }) : Buffer.alloc(0);
  const pieces: Buffer[] = [Buffer.from([0x78, 0xda])];
  for (let i = 0; i < Math.floor(total / MiB); i++) pieces.push(piece);
  pieces.push(rest, Buffer.from([0x03, 0x00]));
  // Adler-32 of n zeros: a stays 1, b grows by 1 per byte.
  pieces.push(u32be(((total % 65521) << 16) | 1));
  return Buffer.concat(pieces);
}

/** A PNG whose header says width×height and whose single IDAT inflates to exactly that many zero rows. */
export function zeroPng(width: number, height: number, bitDepth = 8, colorType = 0, opts: { rows?: number } = {}): Buffer {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType] ?? 1;
  const rowBytes = 1 + Math.ceil((width * channels * bitDepth) / 8);
  const idat = zerosZlib(rowBytes * (opts.rows ?? height));
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, height, bitDepth, colorType), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** The pixel flood: a header for width×height and an IDAT of a few bytes. */
export function floodPng(width: number, height: number): Buffer {
  const idat = Buffer.from([0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]);
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, height), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

const u16le = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };

/** A GIF of `frames` frames, each width×height, with a few bytes of LZW data each (a clear and an end). */
export function gifBomb(width: number, height: number, frames: number): Buffer {
  const parts: Buffer[] = [Buffer.from('GIF89a', 'latin1'), u16le(width), u16le(height), Buffer.from([0x80, 0, 0]), Buffer.from([0, 0, 0, 255, 255, 255])];
  // NETSCAPE loop extension, so decoders treat it as an animation.
  parts.push(Buffer.from([0x21, 0xff, 0x0b]), Buffer.from('NETSCAPE2.0', 'latin1'), Buffer.from([3, 1, 0, 0, 0]));
  for (let i = 0; i < frames; i++) {
    parts.push(Buffer.from([0x21, 0xf9, 4, 0, 1, 0, 0, 0]));
    parts.push(Buffer.from([0x2c]), u16le(0), u16le(0), u16le(width), u16le(height), Buffer.from([0]));
    // LZW minimum code size 2; one sub-block: clear code (4), a pixel 0, end code (5).
    parts.push(Buffer.from([2, 2, 0x44, 0x01, 0]));
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

/** A real lossless WebP whose VP8L header is rewritten to claim width×height (at most 16384 each). */
export async function webpBomb(width: number, height: number): Promise<Buffer> {
  const webp = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 1, g: 2, b: 3 } } }).webp({ lossless: true }).toBuffer();
  const at = webp.indexOf('VP8L', 12, 'latin1');
  if (at < 0) throw new Error('no VP8L chunk');
  const hdr = at + 8 + 1; // chunk id, size, then the 0x2f signature
  const old = webp.readUInt32LE(hdr);
  const bits = ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14) | (old & ~0x0fffffff);
  webp.writeUInt32LE(bits >>> 0, hdr);
  return webp;
}

/** A little-endian TIFF with one strip of a few bytes and a header claiming width×height grey pixels. */
export function tiffBomb(width: number, height: number, pages = 1): Buffer {
  const entries = (next: number, dataAt: number): Buffer => {
    const tags: [number, number, number, number][] = [
      [256, 4, 1, width], [257, 4, 1, height], [258, 3, 1, 8], [259, 3, 1, 1], [262, 3, 1, 1],
      [273, 4, 1, dataAt], [277, 3, 1, 1], [278, 4, 1, height], [279, 4, 1, 8],
    ];
    const b = Buffer.alloc(2 + tags.length * 12 + 4);
    b.writeUInt16LE(tags.length, 0);
    tags.forEach(([tag, type, count, value], i) => {
      const o = 2 + i * 12;
      b.writeUInt16LE(tag, o); b.writeUInt16LE(type, o + 2); b.writeUInt32LE(count, o + 4);
      if (type === 3) b.writeUInt16LE(value, o + 8); else b.writeUInt32LE(value, o + 8);
    });
    b.writeUInt32LE(next, 2 + tags.length * 12);
    return b;
  };
  const ifdLen = 2 + 9 * 12 + 4;
  const out: Buffer[] = [Buffer.from([0x49, 0x49, 42, 0]), Buffer.alloc(4), Buffer.alloc(8)];
  out[1]!.writeUInt32LE(16);
  for (let p = 0; p < pages; p++) {
    const at = 16 + p * ifdLen;
    out.push(entries(p === pages - 1 ? 0 : at + ifdLen, 8));
  }
  return Buffer.concat(out);
}

export interface Part { name: string; data: Buffer | string }

export async function zipOf(parts: Part[], compress = true): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const p of parts) zip.addBuffer(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data), p.name, { compress });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
export const DOCX_TYPES = `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  '<Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';
const RELS = `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>';
const DOC = `${XML}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Hola</w:t></w:r></w:p></w:body></w:document>`;

/** A minimal DOCX that Word opens, plus any extra parts. */
export function docx(extra: Part[] = []): Promise<Buffer> {
  return zipOf([{ name: '[Content_Types].xml', data: DOCX_TYPES }, { name: '_rels/.rels', data: RELS }, { name: 'word/document.xml', data: DOC }, ...extra]);
}

/** ISO BMFF box: 32-bit size (which may lie), type, payload. */
export function box(type: string, payload: Buffer = Buffer.alloc(0), size = 8 + payload.length): Buffer {
  return Buffer.concat([u32be(size), Buffer.from(type, 'latin1'), payload]);
}

/** A small real MP4 made by ffmpeg (one second of test pattern, H.264), for truncating and lying. */
export function realMp4(): Buffer {
  const dir = mkdtempSync('/dev/shm/buzon-hostile-');
  try {
    const out = join(dir, 'v.mp4');
    execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10:duration=1',
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', out]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A small real JPEG, PNG or PDF for truncation and polyglots. */
export async function realJpeg(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 10, g: 120, b: 40 } } }).jpeg().toBuffer();
}
export async function realPng(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 10, g: 120, b: 40 } } }).png().toBuffer();
}

export interface RawPart {
  /** Raw bytes of the field name and file name, so they can be invalid UTF-8 or carry control bytes. */
  name: Buffer | string;
  filename?: Buffer | string;
  contentType?: string;
  data: Buffer | string;
}

/** A multipart/form-data body written byte by byte, with none of a client library's escaping. */
export function multipart(parts: RawPart[], boundary = 'hostile-boundary-7c1f'): { body: Buffer; contentType: string } {
  const b = (s: Buffer | string): Buffer => (Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));
  const out: Buffer[] = [];
  for (const p of parts) {
    out.push(b(`--${boundary}\r\nContent-Disposition: form-data; name="`), b(p.name), b('"'));
    if (p.filename !== undefined) out.push(b('; filename="'), b(p.filename), b('"'));
    out.push(b('\r\n'));
    if (p.contentType) out.push(b(`Content-Type: ${p.contentType}\r\n`));
    out.push(b('\r\n'), b(p.data), b('\r\n'));
  }
  out.push(b(`--${boundary}--\r\n`));
  return { body: Buffer.concat(out), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** An ELF header: sniffed as an executable whatever it is called, so always refused with 415. */
export const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(504)]);
