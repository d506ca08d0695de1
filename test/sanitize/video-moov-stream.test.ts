import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadGatherer } from '../../src/sanitize/video-moov-stream.ts';
import { box } from '../hostile/craft.ts';

/** ffmpeg's output in `chunks`, as the splice passes it on: the cleaned head, then the rest as it came. */
function run(chunks: Buffer[]): { out: Buffer; counter: { removed: number; shrunk: number } } {
  const counter = { removed: 0, shrunk: 0 };
  const gather = new HeadGatherer(counter);
  for (const [i, chunk] of chunks.entries()) {
    const taken = gather.add(chunk);
    if (taken) return { out: Buffer.concat([...taken.out, taken.rest, ...chunks.slice(i + 1)]), counter };
  }
  throw new Error('no moov');
}

/** Byte by byte, so every box boundary falls inside a chunk at least once. */
const oneByOne = (b: Buffer): Buffer[] => [...b].map((x) => Buffer.from([x]));

test('a moov with no hvcC passes whole and unchanged, however the stream is cut', async () => {
  const file = Buffer.concat([box('ftyp', Buffer.from('isom')), box('moov', box('mvhd', Buffer.alloc(20))), box('moof'), box('mdat', Buffer.from('frames'))]);
  const { out, counter } = run(oneByOne(file));
  assert.ok(out.equals(file));
  assert.deepEqual(counter, { removed: 0, shrunk: 0 });
});

for (const [what, file] of [
  ['samples before any moov', Buffer.concat([box('ftyp'), box('moof'), box('mdat')])],
  ['a box that claims less than its header', Buffer.concat([box('ftyp'), Buffer.from([0, 0, 0, 4]), Buffer.from('moov')])],
  ['a stream that ends before its moov does', Buffer.concat([box('ftyp'), box('moov', Buffer.alloc(64)).subarray(0, 40)])],
  ['no moov at all', box('ftyp')],
] as const) {
  test(`refused, rather than passed on unchecked: ${what}`, async () => {
    assert.throws(() => run([file]));
  });
}

test('a moov larger than an empty_moov/delay_moov header could be is refused without holding it all', async () => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(64 * 1024 * 1024, 0);
  head.write('moov', 4, 'latin1');
  assert.throws(() => run([box('ftyp'), head, Buffer.alloc(1024)]), /moov too large/);
});

test('more boxes before the moov than ffmpeg writes are refused, each read once', () => {
  const chunks = [box('ftyp'), ...Array.from({ length: 100_000 }, () => box('free'))];
  assert.throws(() => run(chunks), /no moov at the start/);
});

test('a large moov read in 64 KiB pieces passes whole and unchanged, joined once rather than at every read', (t) => {
  const file = Buffer.concat([box('ftyp'), box('moov', Buffer.concat([box('mvhd', Buffer.alloc(20)), box('free', Buffer.alloc(3 * 1024 * 1024))])), box('mdat', Buffer.from('x'))]);
  const chunks: Buffer[] = [];
  for (let at = 0; at < file.length; at += 65536) chunks.push(file.subarray(at, at + 65536));
  const concat = t.mock.method(Buffer, 'concat');
  const { out } = run(chunks);
  const joins = concat.mock.callCount() - 1; // run() itself joins the output once
  concat.mock.restore();
  assert.ok(out.equals(file));
  assert.ok(joins <= 2, `the head was joined ${joins} times for ${chunks.length} reads`);
});
