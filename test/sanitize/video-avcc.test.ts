/**
 * With the SEI blanked in place, ffmpeg remuxes with no filter and copies the avcC as it is: a
 * record holding anything but SPS, PPS and the high-profile extension must send the file through
 * filter_units, which rewrites it, or what was filed there reaches editors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { plainAvcc } from '../../src/sanitize/video-sei-scrub.ts';
import { ffmpeg, streamCleaned, workdir, type Workdir } from './media-fixtures.ts';
import { boxPath, inserted } from './iso-edit.ts';

let w: Workdir;
let original: Buffer;
const AVCC_PATH = ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd', 'avc1', 'avcC'];

before(() => {
  w = workdir();
  const path = w.file('x264.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-profile:v', 'high', path);
  original = readFileSync(path);
});
after(() => w.remove());

/** The avcC record of `file` (after its box header) and the path of boxes that hold it. */
function avcc(file: Buffer): { path: Array<[number, number]>; start: number; end: number } {
  const path = boxPath(file, AVCC_PATH);
  const [start, end] = path[path.length - 1]!;
  return { path, start: start + 8, end };
}

async function cleanedBytes(file: Buffer): Promise<Buffer> {
  const path = w.file('crafted.mp4');
  writeFileSync(path, file);
  return (await streamCleaned(path)).out;
}

test("x264's own avcC (high profile, with its extension) is plain", () => {
  const { start, end } = avcc(original);
  assert.equal(plainAvcc(original.subarray(start, end)), true);
});

test('an SEI filed as a second SPS in the avcC is not copied to the output', async () => {
  const { path, start } = avcc(original);
  const sei = Buffer.concat([Buffer.from([0x06]), Buffer.from('canary-in-avcC', 'latin1')]);
  const entry = Buffer.concat([Buffer.from([0, sei.length]), sei]);
  // One more SPS in the count (low 5 bits of byte 5), and the entry right after the first SPS.
  const firstSpsEnd = start + 6 + 2 + original.readUInt16BE(start + 6);
  const file = inserted(original, path, firstSpsEnd, entry);
  file[start + 5] = (file[start + 5]! & 0xe0) | ((file[start + 5]! & 0x1f) + 1);
  const { start: s2, end: e2 } = avcc(file);
  assert.equal(plainAvcc(file.subarray(s2, e2)), false);
  const out = await cleanedBytes(file);
  assert.ok(out.length > 1000, 'a video came out');
  assert.equal(out.includes('canary-in-avcC'), false);
});

test('bytes after the end of the avcC are not copied to the output', async () => {
  const { path, end } = avcc(original);
  const file = inserted(original, path, end, Buffer.from('canary-after-avcC', 'latin1'));
  const { start: s2, end: e2 } = avcc(file);
  assert.equal(plainAvcc(file.subarray(s2, e2)), false);
  const out = await cleanedBytes(file);
  assert.ok(out.length > 1000, 'a video came out');
  assert.equal(out.includes('canary-after-avcC'), false);
});
