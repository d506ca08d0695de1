import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ffmpeg, workdir } from './media-fixtures.ts';
import { sniff } from '../../src/sanitize/index.ts';
import { cleanVideoStream } from '../../src/sanitize/video-stream.ts';

// ffmpeg writes a whole fragment, then reads the next one from its input; the seal can keep working
// meanwhile only if ffmpeg may write megabytes ahead of it (video-stream.ts, SEND_BUFFER). Shown here
// by what a real ffmpeg manages to write while nobody reads its pipe.

const w = workdir();
after(() => w.remove());
const MiB = 1024 * 1024;

function ffmpegChild(): number | undefined {
  const r = spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number)[0];
}

/** Bytes the process has written so far, from /proc/<pid>/io. */
function written(pid: number): number {
  return Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'latin1'))![1]);
}

test('the remuxing ffmpeg may write megabytes ahead of a reader that is not reading, not the default ~200 KiB', async () => {
  const src = w.file('noisy.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=25,noise=alls=60:allf=t', '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '4', src);
  assert.ok(statSync(src).size > 12 * MiB, 'the clip is larger than any buffer in the way');
  const cleaned = await cleanVideoStream(src, (await sniff(src))!);
  try {
    let pid: number | undefined;
    for (const deadline = Date.now() + 20_000; pid === undefined && Date.now() < deadline;) {
      pid = ffmpegChild();
      if (pid === undefined) await sleep(20);
    }
    assert.ok(pid, 'ffmpeg runs');
    // ffmpeg writes until the socket is full, then waits: the count stops growing.
    let last = -1;
    let still = 0;
    for (const deadline = Date.now() + 20_000; still < 5 && Date.now() < deadline;) {
      await sleep(100);
      const now = written(pid);
      still = now === last ? still + 1 : 0;
      last = now;
    }
    assert.equal(still, 5, 'ffmpeg came to wait for its reader');
    // The kernel caps the buffer at net.core.wmem_max (4 MiB on our machines; ~208 KiB on a stock
    // kernel, where this shows nothing more than the default would).
    const cap = Number(readFileSync('/proc/sys/net/core/wmem_max', 'latin1'));
    assert.ok(last >= Math.min(4 * MiB, cap), `ffmpeg wrote ${last} bytes ahead`);
  } finally {
    cleaned.stream.resume();
    await cleaned.done.catch(() => {});
  }
});
