/**
 * The hvcC SEI defence against files made to fool it. stripHvccSei (used on ffmpeg's own output in
 * scratch) must refuse hostile layouts boundedly; the streamed cleaner, which cleans the moov ffmpeg
 * writes, must come out clean whatever box ffmpeg took its HEVC configuration from; and cleanHvcc
 * must judge each unit by its own header.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { HvccLayoutError, cleanHvcc, rebuildMoov, stripHvccSei } from '../../src/sanitize/video-hvcc.ts';
import { topLevelBoxes } from '../../src/sanitize/iso-boxes.ts';
import { ffmpeg, streamCleaned, workdir, type Workdir } from './media-fixtures.ts';
import { box } from '../hostile/craft.ts';

let w: Workdir;
let original: Buffer;
/** Where the original's moov starts: it is the last box (ffmpeg's default, as phones write it). */
let moovAt: number;

before(() => {
  w = workdir();
  const path = w.file('x265.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '1', '-c:v', 'libx265', '-x265-params', 'log-level=none', '-tag:v', 'hvc1', path);
  original = readFileSync(path);
  const fd = openSync(path, 'r');
  try {
    const boxes = topLevelBoxes(fd, statSync(path).size, 100)!;
    assert.equal(boxes.at(-1)?.type, 'moov', 'the fixture has its moov last');
    moovAt = boxes.at(-1)!.start;
  } finally {
    closeSync(fd);
  }
  assert.ok(original.includes('x265'), 'the fixture carries the x265 signature');
});
after(() => w.remove());

/** The original with its moov grown by a `free` child of `bytes`: still a valid file, moov still last. */
function withBigMoov(bytes: number): Buffer {
  const moov = Buffer.from(original.subarray(moovAt));
  moov.writeUInt32BE(moov.length + 8 + bytes, 0);
  return Buffer.concat([original.subarray(0, moovAt), moov, box('free', Buffer.alloc(bytes))]);
}

const crafted: Array<[string, () => Buffer, RegExp]> = [
  // Between mdat and moov, so no sample offset moves and ffmpeg still reads the file.
  ['150,000 empty boxes before the moov', () => Buffer.concat([original.subarray(0, moovAt), Buffer.concat(Array.from({ length: 150_000 }, () => box('free'))), original.subarray(moovAt)]), /too many/],
  ['a 17 MiB moov', () => withBigMoov(17 * 1024 * 1024), /moov too large/],
  // ffmpeg reads the first moov and skips the second: cleaning the last one only would leave the first's SEI.
  ['two moovs', () => Buffer.concat([original, original.subarray(moovAt)]), /more than one moov/],
];

// ffmpeg finds a moov inside a top-level udta and reads it before the real one (review, session 5):
// the tipster's own top-level moov is then not what ffmpeg copies its configuration from.
test('a copy of the moov hidden in a udta box before the real one: the output is still clean', async () => {
  const path = w.file('nested.mp4');
  writeFileSync(path, Buffer.concat([original.subarray(0, moovAt), box('udta', original.subarray(moovAt)), original.subarray(moovAt)]));
  const { out } = await streamCleaned(path);
  assert.ok(out.length > 1000, 'a video came out');
  assert.equal(out.includes('x265'), false, 'no x265 signature is left');
});

/** One hvcC NAL array: its header byte (type in the low 6 bits), count, then length-prefixed units. */
function nalArray(type: number, units: Buffer[]): Buffer {
  const head = Buffer.from([type & 0x3f, 0, units.length]);
  return Buffer.concat([head, ...units.flatMap((u) => [Buffer.from([u.length >> 8, u.length & 0xff]), u])]);
}
const nal = (type: number, payload: string) => Buffer.concat([Buffer.from([type << 1, 1]), Buffer.from(payload, 'latin1')]);

test('cleanHvcc judges each unit by its own header: an SEI filed under the VPS array goes, and so do trailing bytes', () => {
  const fixed = Buffer.alloc(23);
  fixed[0] = 1;
  fixed[21] = 3; // lengthSizeMinusOne
  fixed[22] = 2;
  const vps = nal(32, 'vps');
  const sps = nal(33, 'sps');
  const record = Buffer.concat([fixed, nalArray(32, [vps, nal(39, 'canary-in-vps')]), nalArray(33, [sps, Buffer.alloc(0)]), Buffer.from('canary-after')]);
  const counter = { removed: 0 };
  const out = cleanHvcc(record, counter);
  assert.equal(out.includes('canary'), false);
  assert.equal(counter.removed, 2, 'the SEI and the empty unit');
  const expected = Buffer.from(fixed);
  assert.ok(out.equals(Buffer.concat([expected, nalArray(32, [vps]), nalArray(33, [sps])])), 'the VPS and SPS are kept as they were');
});

test("an hvcC under a Dolby Vision sample entry is cleaned like one under hvc1", () => {
  const fixed = Buffer.alloc(23);
  fixed[0] = 1;
  fixed[22] = 2;
  const record = Buffer.concat([fixed, nalArray(32, [nal(32, 'vps')]), nalArray(39, [nal(39, 'canary-sei')])]);
  for (const entry of ['hvc1', 'dvh1', 'dvhe']) {
    const moov = box('moov', box('trak', box('mdia', box('minf', box('stbl', box('stsd', Buffer.concat([Buffer.alloc(8), box(entry, Buffer.concat([Buffer.alloc(78), box('hvcC', record)]))])))))));
    const counter = { removed: 0 };
    const out = rebuildMoov(Buffer.from(moov), counter);
    assert.equal(out.includes('canary-sei'), false, entry);
    assert.equal(counter.removed, 1, entry);
  }
});

test('a box tree nested thousands deep is not walked: rebuilding the moov costs nothing and changes nothing', () => {
  let deep = box('free');
  for (let i = 0; i < 7000; i++) deep = box('hvc1', Buffer.concat([Buffer.alloc(78), deep]));
  const moov = box('moov', box('trak', box('mdia', box('minf', box('stbl', box('stsd', Buffer.concat([Buffer.alloc(8), deep])))))));
  const counter = { removed: 0 };
  // Before, each level was descended and copied: 7,000 levels overflowed the stack.
  assert.ok(rebuildMoov(Buffer.from(moov), counter).equals(moov));
  assert.equal(counter.removed, 0);
});

test('the fixture itself: the hvcC SEI is taken out in place', async () => {
  const path = w.file('plain.mp4');
  writeFileSync(path, original);
  assert.ok(await stripHvccSei(path) > 0);
});

for (const [what, make, reason] of crafted) {
  test(`refused in place, and still cleaned on the way out: ${what}`, async () => {
    const path = w.file('crafted.mp4');
    writeFileSync(path, make());
    await assert.rejects(stripHvccSei(path), (e: unknown) => e instanceof HvccLayoutError && reason.test(e.message));

    const { out, removed } = await streamCleaned(path);
    assert.ok(out.length > 1000, 'a video came out');
    assert.equal(out.includes('x265'), false, 'no x265 signature is left, in the frames or the hvcC');
    assert.ok((removed.sei ?? 0) > 0, 'the removed SEI are reported');
  });
}
