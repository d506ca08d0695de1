/**
 * The Matroska twin of video-hvcc.ts: takes SEI units out of an HEVC track's CodecPrivate (which
 * holds the same HEVCDecoderConfigurationRecord as MP4's hvcC box) in an MKV we just remuxed.
 *
 * Threat: the x265 build-and-options SEI survives ffmpeg's filter_units there too.
 * Defence: the shortened CodecPrivate is written in place and followed by an EBML Void element
 * filling exactly the bytes it gave up, so no element size and no offset (SeekHead, Cues) changes.
 * A layout we do not expect is refused rather than guessed at.
 */
import { open } from 'node:fs/promises';
import { HvccLayoutError, cleanHvcc } from './video-hvcc.ts';

const SEGMENT = 0x18538067;
const TRACKS = 0x1654ae6b;
const CLUSTER = 0x1f43b675;
const TRACK_ENTRY = 0xae;
const CODEC_ID = 0x86;
const CODEC_PRIVATE = 0x63a2;
const VOID = 0xec;
/** ffmpeg writes Tracks before the first Cluster, near the start of the file. */
const HEAD_BYTES = 16 * 1024 * 1024;

interface Vint { value: number; width: number }

function vint(buf: Buffer, p: number, keepMarker: boolean): Vint {
  const first = buf[p] ?? 0;
  const width = first === 0 ? 9 : 9 - (32 - Math.clz32(first)) + 0;
  if (width > 8 || p + width > buf.length) throw new HvccLayoutError('bad EBML number');
  let value = keepMarker ? first : first & (0xff >> width);
  for (let i = 1; i < width; i++) value = value * 256 + (buf[p + i] ?? 0);
  return { value, width };
}

interface Element { id: number; dataStart: number; dataEnd: number; sizeWidth: number }

function* children(buf: Buffer, start: number, end: number): Generator<Element> {
  let p = start;
  while (p < end) {
    const id = vint(buf, p, true);
    const size = vint(buf, p + id.width, false);
    const dataStart = p + id.width + size.width;
    const unknown = size.value === 2 ** (7 * size.width) - 1;
    const dataEnd = unknown ? end : dataStart + size.value;
    if (dataEnd > end && id.value !== SEGMENT) throw new HvccLayoutError('EBML element past its parent');
    yield { id: id.value, dataStart, dataEnd: Math.min(dataEnd, end), sizeWidth: size.width };
    p = dataEnd;
  }
}

/** [size in `width` bytes][record][Void of the bytes saved], the same length as before. */
function replacement(record: Buffer, width: number, oldLength: number): Buffer {
  const size = Buffer.alloc(width);
  let v = record.length;
  for (let i = width - 1; i >= 0; i--) { size[i] = v & 0xff; v = Math.floor(v / 256); }
  size[0] = (size[0] ?? 0) | (0x80 >> (width - 1));
  const gap = oldLength - record.length;
  let pad: Buffer;
  if (gap >= 2 && gap <= 128) pad = Buffer.concat([Buffer.from([VOID, 0x80 | (gap - 2)]), Buffer.alloc(gap - 2)]);
  else if (gap >= 9) {
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(gap - 9));
    len[0] = 0x01;
    pad = Buffer.concat([Buffer.from([VOID]), len, Buffer.alloc(gap - 9)]);
  } else throw new HvccLayoutError('cannot pad');
  return Buffer.concat([size, record, pad]);
}

/** Removes SEI arrays from every HEVC track's CodecPrivate in `path`, in place. Returns how many went. */
export async function stripMkvHvccSei(path: string): Promise<number> {
  const fh = await open(path, 'r+');
  try {
    const head = Buffer.alloc(Math.min((await fh.stat()).size, HEAD_BYTES));
    await fh.read(head, 0, head.length, 0);
    const segment = [...children(head, 0, head.length)].find((e) => e.id === SEGMENT);
    if (!segment) throw new HvccLayoutError('no Segment');
    let tracks: Element | undefined;
    for (const e of children(head, segment.dataStart, segment.dataEnd)) {
      if (e.id === TRACKS) { tracks = e; break; }
      if (e.id === CLUSTER) break;
    }
    if (!tracks) throw new HvccLayoutError('no Tracks before the first Cluster');
    const counter = { removed: 0 };
    for (const entry of children(head, tracks.dataStart, tracks.dataEnd)) {
      if (entry.id !== TRACK_ENTRY) continue;
      const fields = [...children(head, entry.dataStart, entry.dataEnd)];
      const codec = fields.find((f) => f.id === CODEC_ID);
      const priv = fields.find((f) => f.id === CODEC_PRIVATE);
      if (!codec || !priv || head.toString('latin1', codec.dataStart, codec.dataEnd) !== 'V_MPEGH/ISO/HEVC') continue;
      const original = head.subarray(priv.dataStart, priv.dataEnd);
      const record = cleanHvcc(original, counter);
      if (record.equals(original)) continue;
      const bytes = replacement(record, priv.sizeWidth, priv.dataEnd - priv.dataStart);
      await fh.write(bytes, 0, bytes.length, priv.dataStart - priv.sizeWidth);
    }
    return counter.removed;
  } finally {
    await fh.close();
  }
}
