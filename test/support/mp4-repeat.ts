/**
 * An amplifying MP4: one real frame on the wire, listed many times in the sample tables, every entry
 * pointing at the same bytes. A remux copies each listed sample, so a file of ~2 MiB asks for an
 * output of ~`repeats` × 2 MiB: the case the remux's output cap (-fs) exists for.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Box { type: string; payload: Buffer; children?: Box[] }

/** Boxes whose payload is only other boxes, down to the sample tables. */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'dinf', 'edts']);

function parse(buf: Buffer): Box[] {
  const out: Box[] = [];
  for (let at = 0; at + 8 <= buf.length;) {
    const size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (size < 8 || at + size > buf.length) throw new Error(`unexpected box ${type} of ${size} bytes`);
    const payload = buf.subarray(at + 8, at + size);
    out.push(CONTAINERS.has(type) ? { type, payload, children: parse(payload) } : { type, payload });
    at += size;
  }
  return out;
}

function write(boxes: Box[]): Buffer {
  return Buffer.concat(boxes.map((b) => {
    const payload = b.children ? write(b.children) : b.payload;
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + payload.length);
    head.write(b.type, 4, 'latin1');
    return Buffer.concat([head, payload]);
  }));
}

const u32 = (...values: number[]): Buffer => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v, 4 * i));
  return b;
};

const child = (b: Box, type: string): Box => {
  const c = b.children?.find((x) => x.type === type);
  if (!c) throw new Error(`no ${type} in ${b.type}`);
  return c;
};

/**
 * Writes `<dir>/repeat.mp4`: one lossless 1280×720 noise frame (~1.7 MiB), moov at the end, its
 * video track rewritten to list that frame `repeats` times. Returns the path.
 */
export function repeatedSampleMp4(dir: string, repeats: number, opts: { faststart?: boolean } = {}): string {
  const one = join(dir, 'one.mp4');
  execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=30,noise=alls=60:allf=t',
    '-frames:v', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p', one]);
  const top = parse(readFileSync(one));
  const moov = top[top.length - 1]!;
  if (moov.type !== 'moov') throw new Error('expected the moov at the end');
  const trak = child(moov, 'trak');
  // No edit list: it would cut the timeline back to the one frame's duration.
  trak.children = trak.children!.filter((b) => b.type !== 'edts');
  const stbl = child(child(child(trak, 'mdia'), 'minf'), 'stbl');
  const delta = child(stbl, 'stts').payload.readUInt32BE(12);
  const stsz = child(stbl, 'stsz').payload;
  const size = stsz.readUInt32BE(4) || stsz.readUInt32BE(12);
  const offset = child(stbl, 'stco').payload.readUInt32BE(8);
  // Each table as ISO 14496-12 lays it out (version and flags first): every sample a keyframe (no
  // stss), one sample per chunk, every chunk at the one frame's offset.
  stbl.children = [
    ...stbl.children!.filter((b) => !['stts', 'stss', 'ctts', 'stsc', 'stsz', 'stco'].includes(b.type)),
    { type: 'stts', payload: u32(0, 1, repeats, delta) },
    { type: 'stsc', payload: u32(0, 1, 1, 1, 1) },
    { type: 'stsz', payload: u32(0, size, repeats) },
    { type: 'stco', payload: u32(0, repeats, ...Array<number>(repeats).fill(offset)) },
  ];
  const out = join(dir, opts.faststart ? 'repeat-fast.mp4' : 'repeat.mp4');
  if (opts.faststart) {
    // The moov moves in front of the data, as phones write it: every chunk offset moves by its size.
    const moovSize = write([moov]).length;
    stbl.children.find((b) => b.type === 'stco')!.payload = u32(0, repeats, ...Array<number>(repeats).fill(offset + moovSize));
    writeFileSync(out, write([top[0]!, moov, ...top.slice(1, -1)]));
    return out;
  }
  // The boxes before moov (ftyp, free, mdat) keep their places, so the chunk offset stays true.
  writeFileSync(out, write(top));
  return out;
}
