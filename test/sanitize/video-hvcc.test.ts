/**
 * stripHvccSei reads the tipster's own file (the streamed cleaner runs it before the remux), so a
 * hostile layout must be refused, boundedly, and the video must still come out clean by the other
 * way: ffmpeg's output moov cleaned as it streams past (video-moov-stream.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { HvccLayoutError, stripHvccSei } from '../../src/sanitize/video-hvcc.ts';
import { cleanVideoStream } from '../../src/sanitize/video-stream.ts';
import { topLevelBoxes } from '../../src/sanitize/iso-boxes.ts';
import { ffmpeg, workdir, type Workdir } from './media-fixtures.ts';

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

function box(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

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

    const cleaned = await cleanVideoStream(path, { ext: 'mp4', mime: 'video/mp4' });
    const parts: Buffer[] = [];
    for await (const c of cleaned.stream) parts.push(c as Buffer);
    await cleaned.done;
    const out = Buffer.concat(parts);
    assert.ok(out.length > 1000, 'a video came out');
    assert.equal(out.includes('x265'), false, 'no x265 signature is left, in the frames or the hvcC');
    assert.ok((cleaned.report.removed.sei ?? 0) > 0, 'the removed SEI are reported');
  });
}
