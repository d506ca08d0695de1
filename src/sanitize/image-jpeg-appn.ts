/**
 * What a JPEG's APPn and COM segments hold, counted by category, for the lossless JPEG path.
 *
 * Why not exiftool here: starting it costs ~0.1 s per photo, more than the whole lossless rewrite,
 * and the rewrite does not depend on what it finds (every APPn and COM segment is dropped whatever it
 * holds). So the fast path counts what it drops itself, in the same categories as image-inventory.ts:
 * one per EXIF/GPS entry, one per XMP/ICC/comment/other segment, one per IPTC dataset and Photoshop
 * resource. Counts are informational; only the orientation read here changes what we do.
 * Threat: these bytes are hostile. Every offset is bounds-checked, IFD loops are cut, and anything
 * we cannot read makes the caller fall back to the decoding cleaner rather than guess.
 */

/** TIFF tags that describe the pixels (or point to other IFDs), not the camera or the person. */
const STRUCTURAL_TAGS = new Set([
  0x100, 0x101, 0x102, 0x103, 0x106, 0x10a, 0x111, 0x115, 0x116, 0x117, 0x11a, 0x11b, 0x11c, 0x128,
  0x13d, 0x142, 0x143, 0x144, 0x145, 0x152, 0x153, 0x212, 0x213,
]);
const EXIF_IFD = 0x8769;
const GPS_IFD = 0x8825;
const INTEROP_IFD = 0xa005;
const MAKER_NOTE = 0x927c;
const ORIENTATION = 0x112;
const THUMBNAIL_OFFSET = 0x201;

export interface AppnFindings {
  removed: Record<string, number>;
  /** EXIF Orientation, 1 when absent. */
  orientation: number;
  /** ICC profile chunks by sequence number (APP2 may split a profile). */
  icc: Buffer[];
  /** Adobe APP14 colour transform, when present: 0 means the three components are RGB, not YCbCr. */
  adobeTransform?: number;
  exifSegments: number;
}

export function newFindings(): AppnFindings {
  return { removed: {}, orientation: 1, icc: [], exifSegments: 0 };
}

const add = (f: AppnFindings, category: string, n = 1): void => {
  if (n > 0) f.removed[category] = (f.removed[category] ?? 0) + n;
};

/** Records one APPn (0xE0–0xEF) or COM (0xFE) segment body. Returns false when it cannot be read safely. */
export function noteSegment(f: AppnFindings, marker: number, body: Buffer): boolean {
  if (marker === 0xfe) { add(f, 'comment'); return true; }
  const id = body.subarray(0, 32).toString('latin1');
  if (marker === 0xe0 && id.startsWith('JFIF\0')) return true; // structure; we write a fresh one
  if (marker === 0xe0 && id.startsWith('JFXX\0')) { add(f, 'thumbnail'); return true; }
  if (marker === 0xe1 && id.startsWith('Exif\0')) {
    f.exifSegments++;
    return f.exifSegments === 1 && countExif(f, body.subarray(6));
  }
  if (marker === 0xe1 && id.startsWith('http://ns.adobe.com/')) { add(f, 'xmp'); return true; }
  if (marker === 0xe2 && id.startsWith('ICC_PROFILE\0')) {
    if (body.length < 14) return false;
    f.icc[body[12] ?? 0] = body.subarray(14);
    add(f, 'icc_profile');
    return true;
  }
  if (marker === 0xed && id.startsWith('Photoshop 3.0\0')) { countPhotoshop(f, body.subarray(14)); return true; }
  if (marker === 0xee && id.startsWith('Adobe') && body.length >= 12) {
    f.adobeTransform = body[11];
    add(f, 'other');
    return true;
  }
  add(f, 'other'); // MPF (indexes previews after EOI), Ducky, FlashPix, vendor blocks...
  return true;
}

/** Walks IFD0, the EXIF, GPS and interop IFDs, and IFD1 (the thumbnail's). */
function countExif(f: AppnFindings, tiff: Buffer): boolean {
  if (tiff.length < 8) return false;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return false;
  const le = order === 'II';
  const u16 = (o: number): number => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number): number => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  if (u16(2) !== 42) return false;
  const seen = new Set<number>();
  // Returns the next IFD's offset, or -1 when the IFD is unreadable.
  const walk = (offset: number, kind: 'ifd0' | 'exif' | 'gps' | 'ifd1'): number => {
    if (seen.has(offset) || offset < 8 || offset + 2 > tiff.length) return -1;
    seen.add(offset);
    const n = u16(offset);
    if (offset + 2 + n * 12 + 4 > tiff.length) return -1;
    for (let i = 0; i < n; i++) {
      const e = offset + 2 + i * 12;
      const tag = u16(e);
      // A broken sub-IFD only loses counts: it is dropped whole either way.
      if (tag === EXIF_IFD || tag === INTEROP_IFD) { walk(u32(e + 8), 'exif'); continue; }
      if (tag === GPS_IFD) { walk(u32(e + 8), 'gps'); continue; }
      if (kind === 'ifd0' && tag === ORIENTATION) f.orientation = u16(e + 8);
      if (kind === 'gps') add(f, 'gps');
      else if (kind === 'ifd1' && tag === THUMBNAIL_OFFSET) add(f, 'thumbnail');
      else if (tag === MAKER_NOTE) add(f, 'maker_notes');
      else if (!STRUCTURAL_TAGS.has(tag)) add(f, 'exif');
    }
    return u32(offset + 2 + n * 12);
  };
  const ifd1 = walk(u32(4), 'ifd0');
  if (ifd1 === -1) return false;
  if (ifd1 !== 0) walk(ifd1, 'ifd1');
  return f.orientation >= 1 && f.orientation <= 8;
}

/** Photoshop image resources: 0x0404 holds IPTC, counted per dataset; others per resource. */
function countPhotoshop(f: AppnFindings, irb: Buffer): void {
  let p = 0;
  while (p + 12 <= irb.length && irb.toString('latin1', p, p + 4) === '8BIM') {
    const id = irb.readUInt16BE(p + 4);
    const nameLen = irb[p + 6] ?? 0;
    let q = p + 6 + 1 + nameLen;
    if (q % 2) q++; // the Pascal name is padded to an even length
    if (q + 4 > irb.length) break;
    const size = irb.readUInt32BE(q);
    const data = irb.subarray(q + 4, q + 4 + size);
    if (id === 0x0404) add(f, 'iptc', iptcDatasets(data));
    else add(f, 'photoshop_irb');
    p = q + 4 + size + (size % 2);
  }
}

/** IPTC-IIM datasets: 0x1C, record, number, 16-bit size, value. */
function iptcDatasets(data: Buffer): number {
  let n = 0;
  for (let p = 0; p + 5 <= data.length && data[p] === 0x1c; p += 5 + data.readUInt16BE(p + 3)) n++;
  return Math.max(n, 1);
}

/** True when the (reassembled) ICC profile says it is sRGB, so dropping it changes no colour. */
export function iccIsSrgb(chunks: Buffer[]): boolean {
  const profile = Buffer.concat(chunks.filter((c): c is Buffer => c !== undefined));
  if (profile.length < 132 || profile.toString('latin1', 16, 20) !== 'RGB ') return false;
  const count = profile.readUInt32BE(128);
  for (let i = 0; i < count && 132 + i * 12 + 12 <= profile.length; i++) {
    const e = 132 + i * 12;
    if (profile.toString('latin1', e, e + 4) !== 'desc') continue;
    const off = profile.readUInt32BE(e + 4);
    const size = profile.readUInt32BE(e + 8);
    // 'desc' (ICC v2) is ASCII, 'mluc' (v4) UTF-16BE: dropping NULs reads both.
    const text = profile.subarray(off, Math.min(off + size, profile.length)).toString('latin1').replace(/\0/g, '');
    return /sRGB/.test(text);
  }
  return false;
}
