import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { Queue } from 'bullmq';
import { startService, type TestService } from '../support/service.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

// Scratch whose files cannot be removed (an operator's chattr, a fault of the filesystem). The tip
// must be refused whole (never committed with its plaintext still in scratch unnoticed), the log
// must say so by error type only, and the bytes-in-flight budget must come back: a budget never given back would refuse every later upload. A directory with the append-only
// flag lets files be created and written but not removed; tmpfs has it since Linux 6.0, and setting
// it needs root (CAP_LINUX_IMMUTABLE).

const MARKER = 'STUCK-SCRATCH-NOTE-7Q2';
const FILE_NAME = 'IMG_20240117_221503_stuck.jpg';

let svc: TestService;
let queue: Queue;
let photo: Buffer;
let src: string;

function chattr(flag: '+a' | '-a', dir: string): boolean {
  return spawnSync('chattr', [flag, dir], { stdio: 'ignore' }).status === 0;
}

before(async () => {
  src = tempDir('buzon-src-', '/dev/shm');
  // Large enough (~100 KB) that the form's own bytes do not matter next to it.
  const path = join(src, 'photo.jpg');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=640x480,noise=alls=30:allf=t', '-frames:v', '1', '-q:v', '2', path]);
  photo = readFileSync(path);
  assert.ok(photo.length > 20_000);
  // Room for one tip of this size at a time: a budget not given back refuses the second.
  const budget = String(Math.floor(photo.length * 1.5) + 2048);
  svc = await startService({ worker: false, env: { BYTES_IN_FLIGHT_MAX: budget } });
  queue = new Queue('tips', { connection: { host: '127.0.0.1', port: svc.redis.port } });
});
after(async () => {
  chattr('-a', svc.config.SCRATCH_DIR);
  await queue.close();
  await svc.stop();
  removeDirs(src);
});

function sendOnce(json: boolean) {
  const req = request(svc.intake.app).post('/tips?lang=en');
  if (json) req.set('Accept', 'application/json');
  return req.field('note', MARKER).attach('files', photo, FILE_NAME);
}

/**
 * The route answers before its `finally` gives the budget back, so the next tip may come a moment
 * too soon: it is sent again while refused as busy, for at most 10 s. A budget never given back
 * keeps refusing, and the test fails on that refusal.
 */
async function sendPhoto(json = true) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await sendOnce(json);
    const busy = res.status === 503 && (json ? res.body.error?.code === 'busy_upload' : true);
    if (!busy || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('scratch that will not let go of an upload: the tip is refused whole, the log names only the error, and the budget comes back', async (t) => {
  const scratch = svc.config.SCRATCH_DIR;
  if (!chattr('+a', scratch)) {
    t.skip('chattr +a refused here (needs root and a tmpfs from Linux 6.0): nothing to prove');
    return;
  }
  try {
    const refused = await sendPhoto();
    assert.equal(refused.status, 500);
    assert.equal(refused.body.error.code, 'internal');
    assert.match(refused.body.error.message, /nothing was kept\. Please try again/);
    // Without JavaScript, the form comes back with the note in it: the tipster loses nothing.
    const form = await sendPhoto(false);
    assert.equal(form.status, 500);
    assert.match(form.text, /nothing was kept/);
    assert.ok(form.text.includes(MARKER), 'the typed note was not given back');

    assert.deepEqual(readdirSync(join(svc.config.UPLOADS_DIR, 'tips')), [], 'a tip was committed');
    assert.deepEqual(readdirSync(join(svc.config.UPLOADS_DIR, '.drafts')), [], 'a draft was left');
    const counts = await queue.getJobCounts();
    assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), 0, 'a job was queued');

    // What is stuck stays in RAM (tmpfs), under names we made, for the next start's sweep.
    const left = readdirSync(scratch);
    assert.ok(left.length > 0, 'the failure this test makes did not happen');
    for (const name of left) {
      assert.match(name, /^[0-9a-f]{24}/);
      assert.ok(statSync(join(scratch, name)).isFile());
    }

    const logs = svc.logs.join('');
    assert.match(logs, /scratch not removed/);
    assert.ok(!logs.includes(MARKER), 'the note reached the log');
    assert.ok(!logs.includes('IMG_20240117'), "the file's name reached the log");
    assert.ok(!logs.includes(scratch), 'a scratch path reached the log');

    // Note-only tips need no scratch: they are still taken meanwhile.
    await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', 'only a note').expect(201);
  } finally {
    assert.ok(chattr('-a', scratch));
  }

  // The budget came back: the same tip fits again, and this time nothing of it is left in scratch.
  const before = new Set(readdirSync(scratch));
  const ok = await sendPhoto();
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.files, 1);
  assert.deepEqual(readdirSync(scratch).filter((n) => !before.has(n)), [], 'the accepted tip left plaintext in scratch');
});
