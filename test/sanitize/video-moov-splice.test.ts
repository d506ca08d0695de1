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
import { box } from '../hostile/craft.ts';
import { processes } from '../support/proc-tree.ts';

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
  assert.ok('out' in taken);
  return Buffer.concat([...taken.out, taken.rest]);
}

const moovFile = (restBytes: number, moovBytes = 100) => Buffer.concat([
  box('ftyp', Buffer.from('isom')), box('moov', Buffer.concat([box('mvhd', Buffer.alloc(100)), box('free', Buffer.alloc(moovBytes))])),
  box('moof'), box('mdat', randomBytes(restBytes)),
]);

for (const [piece, moovBytes] of [[1000, 100], [65536, 100], [1 << 20, 100], [4096, 600 * 1024]] as const) {
  test(`the joined pipe is the cleaned head then the rest, byte for byte: ${piece}-byte writes, a ${moovBytes}-byte moov`, async (t) => {
    const file = moovFile(24 * 1024 * 1024, moovBytes);
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

/** Our children running `comm` (the joiner's sh). */
function children(comm: string): number[] {
  return processes().filter((p) => p.ppid === process.pid && p.comm === comm).map((p) => p.pid);
}
/**
 * The processes of a process group; `zombies`: count those too. A cat killed with its sh is left for
 * PID 1 to reap, and a container whose PID 1 is node never does.
 */
function inGroup(pgid: number, zombies = false): number[] {
  return processes().filter((p) => p.pgid === pgid && (zombies || p.state !== 'Z')).map((p) => p.pid);
}
/** Polls `ok` until it holds or 10 s have passed (no timing is asserted: the wait only bounds a hang). */
async function eventually(ok: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return ok();
}

test('stopped before the moov has passed: nothing reaches the joined pipe, and no sh or cat outlives done', async (t) => {
  const before = new Set(children('sh'));
  // The moov's first half, then a producer that never sends the rest.
  const file = moovFile(0, 1024 * 1024).subarray(0, 512 * 1024);
  const dir = mkdtempSync(join(tmpdir(), 'buzon-splice-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'out'), file);
  const child = spawn('sh', ['-c', `cat "${join(dir, 'out')}"; exec sleep 30`], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => child.kill('SIGKILL'));
  const s = spliceCleanMoov(child.stdout, { removed: 0, shrunk: 0 });
  const joiner = children('sh').filter((p) => !before.has(p) && p !== child.pid);
  assert.equal(joiner.length, 1);
  assert.ok(await eventually(() => inGroup(joiner[0]!).length >= 2), 'the joiner and its first cat are running');
  // No kill before the handover: closing the joiner's inputs ends its cats, and its sh reaps them.
  const kills = t.mock.method(process, 'kill');
  s.kill();
  const out = await readAll(s.stream);
  await assert.rejects(s.done, (e: unknown) => e instanceof SpliceFailed && !e.layout);
  assert.equal(out.length, 0);
  assert.equal(kills.mock.callCount(), 0, 'no process killed');
  kills.mock.restore();
  assert.deepEqual(inGroup(joiner[0]!, true), [], 'no process of the joiner left, not even a zombie');
});

test('stopped while its cat copies the head to a reader that is not reading: that cat is killed too', async (t) => {
  const before = new Set(children('sh'));
  const s = spliceCleanMoov(producer(t, moovFile(1024 * 1024, 8 * 1024 * 1024), 1 << 20), { removed: 0, shrunk: 0 });
  const joiner = children('sh').filter((p) => !before.has(p));
  assert.equal(joiner.length, 1);
  const reader = s.stream[Symbol.asyncIterator]();
  await reader.next(); // the head is flowing; the reader now stalls, and the cat blocks writing to it
  assert.ok(await eventually(() => inGroup(joiner[0]!).length >= 2), 'the joiner and its first cat are running');
  s.kill();
  // A cat left alone would stay blocked on the stalled reader for as long as this waits.
  assert.ok(await eventually(() => inGroup(joiner[0]!).length === 0), 'no cat left copying after kill()');
  while (!(await reader.next()).done);
  await assert.rejects(s.done, (e: unknown) => e instanceof SpliceFailed && !e.layout);
});

test("a pause in ffmpeg's output right after a full read does not hold the event loop", async (t) => {
  // 64 KiB at once (one full read of Node's), then nothing until this test's event loop answers. Had
  // ffmpeg's pipe been handed to a child already, it would be in blocking mode, and Node's next read
  // would wait for bytes that only this loop can release (review, session 8). The producer gives up
  // waiting after 10 s (so a regression fails rather than hangs) and then exits 3.
  const file = moovFile(1024 * 1024, 200 * 1024);
  const dir = mkdtempSync(join(tmpdir(), 'buzon-splice-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'out');
  writeFileSync(path, file);
  const script = `dd if="${path}" bs=65536 count=1 status=none; if timeout 10 head -n 1 | grep -q go; then r=0; else r=3; fi; `
    + `dd if="${path}" bs=65536 skip=1 status=none; exit $r`;
  const child = spawn('sh', ['-c', script], { stdio: ['pipe', 'pipe', 'ignore'] });
  t.after(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((r) => child.on('close', r));
  const s = spliceCleanMoov(child.stdout, { removed: 0, shrunk: 0 });
  setTimeout(() => child.stdin.end('go\n'), 300);
  const out = await readAll(s.stream);
  await s.done;
  assert.equal(await exited, 0, 'the event loop answered while ffmpeg paused');
  assert.ok(out.equals(expected(file)));
});

test('a joiner that cannot start is a refusal: nothing passed on, ffmpeg\'s output let go', async (t) => {
  const source = producer(t, moovFile(1024 * 1024), 65536);
  const path = process.env.PATH;
  t.after(() => { process.env.PATH = path; });
  process.env.PATH = '/nonexistent'; // no sh to run
  const s = spliceCleanMoov(source, { removed: 0, shrunk: 0 });
  process.env.PATH = path;
  const out = await readAll(s.stream);
  await assert.rejects(s.done, (e: unknown) => e instanceof SpliceFailed && !e.layout);
  assert.equal(out.length, 0);
  assert.ok(source.destroyed, "ffmpeg's output is closed, so ffmpeg stops");
});

test('a copy of the rest that cannot start is a refusal: not even the head is passed on, and nothing is left running', async (t) => {
  const before = new Set(children('sh'));
  const source = producer(t, moovFile(4 * 1024 * 1024), 65536);
  const s = spliceCleanMoov(source, { removed: 0, shrunk: 0 }, 'buzon-no-such-command');
  const joiner = children('sh').filter((p) => !before.has(p));
  assert.equal(joiner.length, 1);
  const out = await readAll(s.stream);
  await assert.rejects(s.done, (e: unknown) => e instanceof SpliceFailed && !e.layout);
  assert.equal(out.length, 0);
  assert.ok(source.destroyed, "ffmpeg's output is closed, so ffmpeg stops");
  assert.deepEqual(inGroup(joiner[0]!, true), []);
});
