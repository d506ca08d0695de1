import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createWriteStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ffmpeg, workdir } from './media-fixtures.ts';
import { EarlyRemux, abortAllEarly } from '../../src/sanitize/video-early.ts';

// At the SIGTERM deadline the intake calls abortAllEarly() and exits at once (src/intake/main.ts).
// An ffmpeg still following an upload would outlive it, waiting up to its stall timeout for bytes
// that never come and feeding a seal into a draft. So every live remux's ffmpeg must already be
// killed when abortAllEarly() returns; and, as abort() promises, an upload that does go on reaches
// scratch untouched, so restore() leaves it as sent.

const w = workdir();
after(() => w.remove());

function ffmpegs(): number[] {
  const r = spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

/** A process state from /proc: 'Z' once killed (and not yet reaped), undefined once gone. */
function state(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /s, '')[0];
  } catch {
    return undefined;
  }
}

/** An upload of `bytes` through an early remux that stops half way until `resume` settles. */
function uploadHalting(bytes: Buffer, dest: string, resume: Promise<void>) {
  let halted!: () => void;
  let started!: () => void;
  const halfway = new Promise<void>((r) => { halted = r; });
  const running = new Promise<void>((r) => { started = r; });
  const early = new EarlyRemux(dest, 64 * 1024 * 1024, {
    prepare: async () => {},
    start: (c) => { c.stream.resume(); started(); },
  });
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.length; at += 64 * 1024) {
      if (at >= bytes.length / 2 && at < bytes.length / 2 + 64 * 1024) { halted(); await resume; }
      yield bytes.subarray(at, at + 64 * 1024);
    }
  }
  const done = pipeline(Readable.from(chunks()), early.stream, createWriteStream(dest)).then(() => early.end());
  return { early, ready: Promise.all([halfway, running]), done };
}

// Two remuxes at once need two cores (video-early.ts runs one per core).
test('abortAllEarly() kills every live early remux\'s ffmpeg before it returns; the uploads then reach scratch as sent', { skip: availableParallelism() < 2 }, async () => {
  const src = w.file('fast.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25,noise=alls=40:allf=t', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '10',
    '-movflags', '+faststart', src);
  const bytes = readFileSync(src);
  let resume!: () => void;
  const resumed = new Promise<void>((r) => { resume = r; });
  const uploads = [0, 1].map((i) => uploadHalting(bytes, w.file(`up-${i}.mp4`), resumed));
  try {
    await checkAbortAll(uploads, bytes, resume);
  } finally {
    // Should this fail, nothing of it may outlive the test: an ffmpeg left following would wait 10 minutes.
    resume();
    for (const pid of ffmpegs()) process.kill(pid, 'SIGKILL');
  }
});

async function checkAbortAll(uploads: ReturnType<typeof uploadHalting>[], bytes: Buffer, resume: () => void): Promise<void> {
  await Promise.all(uploads.map((u) => u.ready));
  // prlimit may not have become ffmpeg yet: wait until both are seen.
  for (let i = 0; i < 100 && ffmpegs().length < 2; i++) await sleep(100);
  const pids = ffmpegs();
  assert.equal(pids.length, 2, 'both remuxes run, each following its upload');

  abortAllEarly();
  // main.ts exits right after this call: the kills must be sent now, not on a later tick. The
  // event loop is held from here on (synchronous waits), so a killed ffmpeg is a zombie not yet
  // reaped, and one still running was not killed by abortAllEarly() itself.
  const killed = () => pids.every((pid) => ['Z', undefined].includes(state(pid)));
  for (let i = 0; i < 100 && !killed(); i++) spawnSync('sleep', ['0.1']);
  for (const pid of pids) assert.ok(['Z', undefined].includes(state(pid)), `ffmpeg ${pid} was killed at once (state ${state(pid)})`);

  for (const u of uploads) assert.equal(await u.early.result, undefined, 'the remux gave up');
  resume();
  const finished = await Promise.race([Promise.all(uploads.map((u) => u.done)), sleep(20_000, 'hang', { ref: false })]);
  assert.notEqual(finished, 'hang', 'the uploads went on to their end');
  for (let i = 0; i < 50 && ffmpegs().length > 0; i++) await sleep(100);
  assert.deepEqual(ffmpegs(), [], 'no ffmpeg left');
  for (const [i, u] of uploads.entries()) {
    await u.early.restore();
    assert.ok(readFileSync(w.file(`up-${i}.mp4`)).equals(bytes), `upload ${i}: scratch holds it as sent`);
  }
}
