/** Editing a live-written Matroska file (Segment and Clusters of unknown size) in tests. */

const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
const SIMPLE_BLOCK = 0xa3;
const BLOCK_GROUP = 0xa0;
const BLOCK = 0xa1;

/** An EBML variable-length number at `at`: its value and its length in bytes (the marker bit dropped for sizes). */
function vint(b: Buffer, at: number, keepMarker: boolean): { value: number; length: number } {
  const first = b[at]!;
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  let value = keepMarker ? first : first & (0xff >> length);
  for (let i = 1; i < length; i++) value = value * 256 + b[at + i]!;
  return { value, length };
}

/** `n` as an EBML size, in `width` bytes or as few more as it needs. */
function size(n: number, width: number): Buffer {
  for (let length = width; length <= 8; length++) {
    if (n < 2 ** (7 * length) - 1) {
      const out = Buffer.alloc(length);
      let v = n;
      for (let i = length - 1; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
      out[0]! |= 0x80 >> (length - 1);
      return out;
    }
  }
  throw new Error('too large');
}

const MASTERS = new Set([SEGMENT, CLUSTER, BLOCK_GROUP]);
const BLOCKS = new Set([SIMPLE_BLOCK, BLOCK]);
const UNKNOWN = Buffer.from('01ffffffffffffff', 'hex');

/**
 * `mkv` with `prefix(frame)` put before every frame of every block, and the sizes of the blocks and
 * of the elements around them grown to match. Meant for an ffmpeg file written to a pipe: its
 * Segment has an unknown size, and no index points into it.
 */
export function withFramePrefix(mkv: Buffer, prefix: (frame: Buffer) => Buffer): Buffer {
  const edit = (from: number, to: number): Buffer => {
    const parts: Buffer[] = [];
    let p = from;
    while (p < to) {
      const id = vint(mkv, p, true);
      const len = vint(mkv, p + id.length, false);
      const head = id.length + len.length;
      const unknown = len.value === 2 ** (7 * len.length) - 1;
      const end = unknown ? to : p + head + len.value;
      const body = mkv.subarray(p + head, end);
      let next: Buffer | undefined;
      if (MASTERS.has(id.value)) next = edit(p + head, end);
      else if (BLOCKS.has(id.value)) {
        const track = vint(body, 0, false);
        const frame = body.subarray(track.length + 3); // after the track, timecode and flags
        next = Buffer.concat([body.subarray(0, track.length + 3), prefix(frame), frame]);
      }
      // Untouched elements keep their bytes, sizes included: what points at them still does.
      if (next === undefined) parts.push(mkv.subarray(p, end));
      else parts.push(mkv.subarray(p, p + id.length), unknown ? UNKNOWN : size(next.length, len.length), next);
      p = end;
    }
    return Buffer.concat(parts);
  };
  return edit(0, mkv.length);
}

/** An ADTS header for an AAC LC frame of `payload` bytes: 44.1 kHz, stereo, no CRC. */
export function adtsHeader(payload: number): Buffer {
  const length = payload + 7;
  // syncword, MPEG-4, no CRC | LC, 44.1 kHz (index 4), channel configuration 2 | frame length | fullness
  return Buffer.from([0xff, 0xf1, (1 << 6) | (4 << 2), (2 << 6) | (length >> 11), (length >> 3) & 0xff, ((length & 7) << 5) | 0x1f, 0xfc]);
}
