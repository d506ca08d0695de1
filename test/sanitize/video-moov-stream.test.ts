import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCleanMoov } from '../../src/sanitize/video-moov-stream.ts';

function box(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

async function run(chunks: Buffer[]): Promise<{ out: Buffer; counter: { removed: number; shrunk: number } }> {
  const counter = { removed: 0, shrunk: 0 };
  const parts: Buffer[] = [];
  for await (const c of withCleanMoov((async function* () { yield* chunks; })(), counter)) parts.push(c);
  return { out: Buffer.concat(parts), counter };
}

/** Byte by byte, so every box boundary falls inside a chunk at least once. */
const oneByOne = (b: Buffer): Buffer[] => [...b].map((x) => Buffer.from([x]));

test('a moov with no hvcC passes whole and unchanged, however the stream is cut', async () => {
  const file = Buffer.concat([box('ftyp', Buffer.from('isom')), box('moov', box('mvhd', Buffer.alloc(20))), box('moof'), box('mdat', Buffer.from('frames'))]);
  const { out, counter } = await run(oneByOne(file));
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
    await assert.rejects(run([file]));
  });
}

test('a moov larger than an empty_moov/delay_moov header could be is refused without holding it all', async () => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(64 * 1024 * 1024, 0);
  head.write('moov', 4, 'latin1');
  await assert.rejects(run([box('ftyp'), head, Buffer.alloc(1024)]), /moov too large/);
});

test('small boxes before the moov without end are refused once they pass what a header could be', async () => {
  const free = box('free', Buffer.alloc(4088));
  const chunks = [box('ftyp'), ...Array.from({ length: 4200 }, () => free)];
  await assert.rejects(run(chunks), /no moov at the start/);
});

test('a large moov read in 64 KiB pieces passes whole and unchanged', async () => {
  const file = Buffer.concat([box('ftyp'), box('moov', Buffer.concat([box('mvhd', Buffer.alloc(20)), box('free', Buffer.alloc(3 * 1024 * 1024))])), box('mdat', Buffer.from('x'))]);
  const chunks: Buffer[] = [];
  for (let at = 0; at < file.length; at += 65536) chunks.push(file.subarray(at, at + 65536));
  const { out } = await run(chunks);
  assert.ok(out.equals(file));
});
