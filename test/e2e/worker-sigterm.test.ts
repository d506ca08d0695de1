/**
 * The worker on SIGTERM (issue 5, "Durability"): it stops taking tips, finishes the ones in flight up
 * to a deadline, and leaves the queue clean. A delivery is held in flight by a named pipe in the
 * vault: the worker's copy blocks reading it until the test opens and closes the writing end (an
 * empty file, size 0, which matches the job), so "in flight at SIGTERM" is certain, not a race.
 * The vault is on /dev/shm and the inbox is not, so the worker copies (a hard link, its choice on one
 * filesystem, would not read the pipe and would not block).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { openTipsQueue, enqueueTip, type TipJob } from '../../src/queue/tips.ts';
import { redisOptions } from '../../src/redis.ts';
import { startRedis, type TestRedis } from '../support/redis.ts';
import { Proc, logReady } from '../support/proc-service.ts';
import { waitForInbox } from '../support/wait.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

interface Rig { root: string; uploads: string; redis: TestRedis; queue: Queue<TipJob>; worker: () => Proc; vaultTips: string; inbox: string }

async function rig(): Promise<Rig> {
  const root = tempDir('buzon-sigterm-');
  const uploads = tempDir('buzon-sigterm-vault-', '/dev/shm');
  assert.notEqual(statSync(uploads).dev, statSync(root).dev, 'vault and inbox must be on different filesystems for the pipe to hold a copy');
  const redis = await startRedis(join(root, 'redis'));
  const env = {
    NODE_ENV: 'test', REDIS_URL: redis.url, KEYS_DIR: join(root, 'keys'), UPLOADS_DIR: uploads,
    INBOX_DIR: join(root, 'inbox'), SCRATCH_DIR: '/dev/shm/unused', LOG_LEVEL: 'info',
  };
  const queue = openTipsQueue(redisOptions(redis.url));
  const vaultTips = join(uploads, 'tips');
  mkdirSync(vaultTips, { recursive: true });
  let n = 0;
  const worker = () => new Proc({ name: 'worker', script: 'workers/main.ts', env, ready: logReady('editorial worker started'), logFile: join(root, `worker-${++n}.log`) });
  return { root, uploads, redis, queue, worker, vaultTips, inbox: join(root, 'inbox') };
}

/** A committed tip in the vault: a manifest, and a file that is a named pipe when `held`. */
async function putTip(r: Rig, held: boolean): Promise<{ tipId: string; pipe: string }> {
  const tipId = randomBytes(16).toString('hex');
  const dir = join(r.vaultTips, tipId);
  mkdirSync(dir);
  writeFileSync(join(dir, 'manifest.json.pgp'), randomBytes(300));
  const pipe = join(dir, 'file-1.pgp');
  if (held) execFileSync('mkfifo', [pipe]);
  else writeFileSync(pipe, randomBytes(1000));
  await enqueueTip(r.queue, { tipId, files: [{ name: 'manifest.json.pgp', size: 300 }, { name: 'file-1.pgp', size: held ? 0 : 1000 }] });
  return { tipId, pipe };
}

/** Lets the held copy finish: open the pipe's writing end and close it (EOF). Non-blocking, so a
 * worker that is no longer reading makes this throw (ENXIO) instead of hanging the test. */
async function release(pipe: string): Promise<void> {
  const fh = await open(pipe, constants.O_WRONLY | constants.O_NONBLOCK);
  await fh.close();
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function teardown(r: Rig, procs: Proc[]): Promise<void> {
  for (const p of procs) await p.close();
  await r.queue.close();
  await r.redis.stop();
  removeDirs(r.root, r.uploads);
}

test('on SIGTERM the worker takes no new tip, finishes the one in flight, exits 0 and leaves the queue clean', { timeout: 60_000 }, async () => {
  const r = await rig();
  const first = r.worker();
  const second = r.worker();
  try {
    await first.start();
    const held = await putTip(r, true);
    await until('the held delivery to be active', async () => (await r.queue.getActiveCount()) === 1);

    const exit = first.term();
    await sleep(300);
    const late = [await putTip(r, false), await putTip(r, false)];
    await sleep(700);
    assert.equal(first.running, true, 'the worker must wait for the delivery in flight');
    await release(held.pipe);
    const { code, ms } = await exit;

    assert.equal(code, 0);
    assert.ok(ms < 8_000, `took ${ms} ms`);
    assert.match(first.output, /stopped cleanly/);
    // The tip in flight is delivered whole; the queue has nothing active (no stalled job to wait for).
    assert.deepEqual(readdirSync(join(r.inbox, held.tipId)).sort(), ['file-1.pgp', 'manifest.json.pgp']);
    assert.equal(await r.queue.getActiveCount(), 0);
    assert.deepEqual(readdirSync(r.inbox).filter((n) => n.startsWith('.')), []);
    // The tips queued after SIGTERM were not taken: still waiting, still in the vault.
    for (const t of late) {
      assert.equal(await r.queue.getJobState(t.tipId), 'waiting');
      assert.equal(existsSync(join(r.inbox, t.tipId)), false);
    }
    // The next worker picks them up at once.
    await second.start();
    await waitForInbox(r.inbox, 3, 15_000);
    // The vault copy goes just after the inbox copy is in place, so it may still be there for a moment.
    await until('the vault to be empty', async () => readdirSync(r.vaultTips).length === 0);
    assert.deepEqual(readdirSync(r.vaultTips), []);
  } finally {
    await teardown(r, [first, second]);
  }
});

test('a delivery that outlasts the deadline is cut, and the next worker delivers it once after the lock lapses', { timeout: 60_000 }, async () => {
  const r = await rig();
  const first = r.worker();
  const second = r.worker();
  try {
    await first.start();
    const held = await putTip(r, true);
    await until('the held delivery to be active', async () => (await r.queue.getActiveCount()) === 1);
    const { signal, ms } = await first.term();
    // It ends as a crash would: process.exit would wait for ever on the pool thread stuck reading.
    assert.equal(signal, 'SIGKILL');
    assert.ok(ms >= 7_500 && ms < 12_000, `took ${ms} ms`);
    assert.match(first.output, /deadline reached/);

    await second.start();
    // The job is recovered once the dead worker's lock lapses (10 s); the new copy then blocks on the
    // pipe, which we keep releasing until the tip is in.
    await until('the tip to be delivered', async () => {
      await release(held.pipe).catch(() => {});
      return existsSync(join(r.inbox, held.tipId));
    }, 30_000);
    await until('the vault copy to go', async () => readdirSync(r.vaultTips).length === 0, 5_000);
    assert.deepEqual(readdirSync(r.inbox).filter((n) => !n.startsWith('.')), [held.tipId]);
    assert.deepEqual(readdirSync(r.inbox).filter((n) => n.startsWith('.')), []);
  } finally {
    await teardown(r, [first, second]);
  }
});
