/**
 * WORKER_NICE: the editorial worker lowers its own CPU priority at start, so under a burst of tips
 * the intake (which tipsters wait on) gets the cores first. It must still deliver, and a value out
 * of range must stop the start with a line naming the variable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openTipsQueue, enqueueTip } from '../../src/queue/tips.ts';
import { redisOptions } from '../../src/redis.ts';
import { startRedis } from '../support/redis.ts';
import { Proc, logReady } from '../support/proc-service.ts';
import { waitForInbox } from '../support/wait.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

/** Field 19 of /proc/<pid>/task/<tid>/stat: the nice value of each of the process's threads. */
function niceOfThreads(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

test('the worker runs at WORKER_NICE (main thread and the pool that runs its fsyncs) and still delivers', async () => {
  const root = tempDir('buzon-nice-');
  const redis = await startRedis(join(root, 'redis'));
  const env = {
    NODE_ENV: 'test', REDIS_URL: redis.url, KEYS_DIR: join(root, 'keys'), UPLOADS_DIR: join(root, 'uploads'),
    INBOX_DIR: join(root, 'inbox'), SCRATCH_DIR: '/dev/shm/unused', LOG_LEVEL: 'info', WORKER_NICE: '7',
  };
  const worker = new Proc({ name: 'worker', script: 'workers/main.ts', env, ready: logReady('editorial worker started'), logFile: join(root, 'worker.log') });
  const queue = openTipsQueue(redisOptions(redis.url));
  try {
    await worker.start();
    const tipId = randomBytes(16).toString('hex');
    mkdirSync(join(root, 'uploads', 'tips', tipId), { recursive: true });
    writeFileSync(join(root, 'uploads', 'tips', tipId, 'manifest.json.pgp'), randomBytes(300));
    await enqueueTip(queue, { tipId, files: [{ name: 'manifest.json.pgp', size: 300 }] });
    assert.deepEqual(await waitForInbox(join(root, 'inbox'), 1), [join(root, 'inbox', tipId)]);
    const nice = niceOfThreads(worker.pid!);
    assert.deepEqual(new Set(nice), new Set([7]), `every thread at 7: ${nice.join(',')}`);
  } finally {
    await queue.close();
    await worker.close();
    await redis.stop();
    removeDirs(root);
  }
});

test('a WORKER_NICE out of range stops the start with a line that names it', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', REDIS_URL: 'redis://127.0.0.1:1', WORKER_NICE: '25' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /WORKER_NICE/);
});
