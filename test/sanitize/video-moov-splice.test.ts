import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SpliceFailed, spliceCleanMoov } from '../../src/sanitize/video-moov-splice.ts';
import { takeCleanHead } from '../../src/sanitize/video-moov-stream.ts';

function box(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

/** A child writing `bytes` to its stdout in pieces of `piece` bytes, as ffmpeg writes to its pipe. */
function producer(t: { after(fn: () => void): void }, bytes: Buffer, piece: number): Readable {
  const dir = mkdtempSync(join(tmpdir(), 'buzon-splice-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'out');
  writeFileSync(file, bytes);
  // dd's small blocks make many short writes, so the moov and the rest arrive in many reads.
  const child = spawn('dd', [`if=${file}`, `bs=${piece}`, 'status=none'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return child.stdout;
}

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function expected(file: Buffer): Buffer {
  const taken = takeCleanHead(file, { removed: 0, shrunk: 0 });
  assert.ok(taken);
  return Buffer.concat([...taken.out, taken.rest]);
}

const moovFile = (restBytes: number) => Buffer.concat([
  box('ftyp', Buffer.from('isom')), box('moov', box('mvhd', Buffer.alloc(100))), box('moof'), box('mdat', randomBytes(restBytes)),
]);

for (const piece of [1000, 65536, 1 << 20]) {
  test(`the joined pipe is the cleaned head then the rest, byte for byte, written ${piece} bytes at a time`, async (t) => {
    const file = moovFile(24 * 1024 * 1024);
    const s = spliceCleanMoov(producer(t, file, piece), { removed: 0, shrunk: 0 });
    const out = await readAll(s.stream);
    await s.done;
    // Nothing read twice, nothing skipped, in order: the handover from our read to cat's is exact.
    assert.equal(out.length, expected(file).length);
    assert.ok(out.equals(expected(file)));
  });
}

for (const [what, file] of [
  ['samples before any moov', Buffer.concat([box('ftyp'), box('moof'), box('mdat', randomBytes(1 << 20))])],
  ['a box that claims less than its header', Buffer.concat([box('ftyp'), Buffer.from([0, 0, 0, 4]), Buffer.from('moov'), randomBytes(1 << 20)])],
  ['a stream that ends before its moov does', Buffer.concat([box('ftyp'), box('moov', Buffer.alloc(64)).subarray(0, 40)])],
  ['no moov at all', box('ftyp')],
] as const) {
  test(`refused as a layout, and not a byte passed on: ${what}`, async (t) => {
    const s = spliceCleanMoov(producer(t, file, 4096), { removed: 0, shrunk: 0 });
    const out = await readAll(s.stream);
    await assert.rejects(s.done, (e: unknown) => e instanceof SpliceFailed && e.layout);
    assert.equal(out.length, 0);
  });
}

test('stopped mid-stream, the joined pipe ends early and done says it failed, not that all passed', async (t) => {
  const s = spliceCleanMoov(producer(t, moovFile(64 * 1024 * 1024), 65536), { removed: 0, shrunk: 0 });
  let got = 0;
  for await (const c of s.stream) {
    got += (c as Buffer).length;
    if (got > 1024 * 1024) s.kill();
  }
  await assert.rejects(s.done, (e: unknown) => e instanceof SpliceFailed && !e.layout);
  assert.ok(got < 64 * 1024 * 1024);
});

test('a reader that goes away makes the copy fail: done rejects', async (t) => {
  const s = spliceCleanMoov(producer(t, moovFile(64 * 1024 * 1024), 65536), { removed: 0, shrunk: 0 });
  for await (const _ of s.stream) break; // the consumer (gpg, in production) is gone
  await assert.rejects(s.done, (e: unknown) => e instanceof SpliceFailed && !e.layout);
});
