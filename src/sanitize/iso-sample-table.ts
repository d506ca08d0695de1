/**
 * Where each sample of each track lies in an MP4/MOV, read from the moov's sample tables (stsz,
 * stsc, stco/co64) alone: what the streamed SEI blanker (video-early.ts) needs to find the frames
 * of an upload while it is still arriving, before any ffprobe could list them.
 *
 * Trust: none. This is our reading, not ffmpeg's, and a crafted moov can make the two differ. The
 * blanker's work is thrown away unless, once the upload is whole, ffprobe's own listing finds the
 * very same units to blank (video-early-check.ts). A table we will not guess at (a compact stz2,
 * a chunk past the tables, more samples than a bound) is undefined.
 */

/** Above a real recording (an hour at 60 fps with its sound: ~385,000 samples); past it we do not stream. */
const MAX_SAMPLES = 500_000;

interface Box { type: string; body: Buffer }

function children(buf: Buffer): Box[] | undefined {
  const out: Box[] = [];
  for (let at = 0; at < buf.length;) {
    if (at + 8 > buf.length) return undefined;
    let size = buf.readUInt32BE(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > buf.length) return undefined;
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = buf.length - at;
    if (size < header || at + size > buf.length) return undefined;
    out.push({ type: buf.toString('latin1', at + 4, at + 8), body: buf.subarray(at + header, at + size) });
    at += size;
  }
  return out;
}

/** Each trak's samples as flat (offset, size) pairs, in the order its tables give them. */
export function sampleRanges(moovBody: Buffer): Float64Array[] | undefined {
  const traks = children(moovBody)?.filter((b) => b.type === 'trak');
  if (!traks) return undefined;
  const out: Float64Array[] = [];
  let total = 0;
  for (const trak of traks) {
    // Only the path to the tables is descended into: a box tree nested deep costs nothing.
    let stbl: Buffer | undefined = trak.body;
    for (const step of ['mdia', 'minf', 'stbl']) {
      const found: Box[] = (children(stbl!) ?? []).filter((b) => b.type === step);
      if (found.length !== 1) return undefined;
      stbl = found[0]!.body;
    }
    const boxes = children(stbl!);
    if (!boxes) return undefined;
    const one = (type: string) => {
      const f = boxes.filter((b) => b.type === type);
      return f.length === 1 ? f[0]!.body : f.length === 0 ? null : undefined;
    };
    const stsz = one('stsz');
    const stsc = one('stsc');
    const stco = one('stco');
    const co64 = one('co64');
    if (!stsz || !stsc || one('stz2') !== null || stco === undefined || co64 === undefined || (stco === null) === (co64 === null)) return undefined;
    const samples = walkTables(stsz, stsc, (stco ?? co64)!, co64 !== null, MAX_SAMPLES - total);
    if (!samples) return undefined;
    total += samples.length / 2;
    out.push(samples);
  }
  return out;
}

function walkTables(stsz: Buffer, stsc: Buffer, chunks: Buffer, wide: boolean, budget: number): Float64Array | undefined {
  if (stsz.length < 12 || stsc.length < 8 || chunks.length < 8) return undefined;
  const fixed = stsz.readUInt32BE(4);
  const count = stsz.readUInt32BE(8);
  if (count > budget || (fixed === 0 && stsz.length < 12 + count * 4)) return undefined;
  const runs = stsc.readUInt32BE(4);
  const chunkCount = chunks.readUInt32BE(4);
  if (stsc.length < 8 + runs * 12 || chunks.length < 8 + chunkCount * (wide ? 8 : 4)) return undefined;
  // Typed, and sized once: a crafted table of a million samples costs 16 MB, not ten times that.
  const out = new Float64Array(count * 2);
  let sample = 0;
  for (let r = 0; r < runs && sample < count; r++) {
    const first = stsc.readUInt32BE(8 + r * 12);
    const perChunk = stsc.readUInt32BE(12 + r * 12);
    const last = r + 1 < runs ? stsc.readUInt32BE(8 + (r + 1) * 12) - 1 : chunkCount;
    if (first < 1 || last > chunkCount || last < first - 1 || perChunk === 0) return undefined;
    for (let c = first; c <= last && sample < count; c++) {
      let pos = wide ? Number(chunks.readBigUInt64BE(8 + (c - 1) * 8)) : chunks.readUInt32BE(8 + (c - 1) * 4);
      for (let k = 0; k < perChunk && sample < count; k++, sample++) {
        const size = fixed !== 0 ? fixed : stsz.readUInt32BE(12 + sample * 4);
        out[sample * 2] = pos;
        out[sample * 2 + 1] = size;
        pos += size;
      }
    }
  }
  return sample === count ? out : undefined;
}
