import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import request from 'supertest';
import { UnrecoverableError, Worker, type RedisOptions as BullRedisOptions } from 'bullmq';
import { startService } from '../support/service.ts';
import { waitForInbox } from '../support/wait.ts';
import { createLog } from '../../src/log.ts';
import { FsVault } from '../../src/vault/fs-vault.ts';
import { QUEUE_NAME, enqueueTip, openTipsQueue } from '../../src/queue/tips.ts';
import { reconcile } from '../../src/queue/reconcile.ts';
import { redisOptions } from '../../src/redis.ts';
import { newTipId } from '../../src/intake/receipt.ts';

// A delivery that fails every attempt (an inbox unwritable for days: 20 attempts with growing waits)
// leaves its job in BullMQ's failed set, and that job id made the outbox sweep's add a no-op: the tip
// sat in the vault for ever, with nothing but a log line. Here a job is failed outright, as the
// last of its attempts would be, and the sweep must start it over.

test('a tip whose delivery failed every attempt is started over by the outbox sweep and delivered; one that kept stopping its workers is set aside until the next start of the intake; a failed job for a tip no longer in the vault is dropped', async (t) => {
  // The intake's own sweep is pushed out of the way: this test runs the sweep itself.
  const svc = await startService({ worker: false, env: { OUTBOX_SWEEP_SECONDS: '3600' } });
  // Commands wait for the connection here, as the worker's do (src/redis.ts fails fast, for the intake).
  const connection = { ...redisOptions(svc.redis.url), enableOfflineQueue: true };
  const queue = openTipsQueue(connection);
  let failing: { close(): Promise<void> } | undefined;
  // In this order even when an assertion fails first: a client left behind once Redis is gone would
  // retry its connection for ever and keep the test process alive.
  t.after(async () => {
    await failing?.close();
    await queue.close();
    await svc.stop();
  });

  await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', 'entregar tarde').expect(201);
  await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', 'mata al worker').expect(201);
  const [tipId, poison] = await new FsVault(svc.config.UPLOADS_DIR).init().then((v) => v.list());
  assert.ok(tipId && poison);
  // A job for a tip that is no longer in the vault (delivered, then its job failed on the way out).
  const stale = newTipId();
  await enqueueTip(queue, { tipId: stale, files: [{ name: 'manifest.json.pgp', size: 1 }] });

  // The poison tip fails as BullMQ fails a job whose delivery kept stopping its workers.
  const fails = new Worker(QUEUE_NAME, async (job): Promise<void> => {
    throw new UnrecoverableError(job.id === poison ? 'job stalled more than allowable limit' : 'the inbox cannot be written');
  }, { connection: connection as BullRedisOptions });
  failing = fails;
  for (let i = 0; i < 300 && (await queue.getFailedCount()) < 3; i++) await new Promise((r) => setTimeout(r, 100));
  await fails.close();
  for (const id of [tipId, poison, stale]) assert.equal(await queue.getJobState(id), 'failed');

  await svc.startWorker();
  await reconcile(await new FsVault(svc.config.UPLOADS_DIR).init(), queue, createLog('silent', 'test'));
  const delivered = await waitForInbox(svc.config.INBOX_DIR, 1, 30_000);
  assert.deepEqual(delivered.map((p) => basename(p)), [tipId]);
  // The stale one named a tip for nothing, and Redis should name none it need not.
  assert.equal(await queue.getJob(stale), undefined);
  // The poison one is left failed, its tip in the vault: started over, it would stop a worker at
  // every sweep.
  assert.equal(await queue.getJobState(poison), 'failed');
  // (The delivered tip leaves the vault a moment after it reaches the inbox.)
  const vault = await new FsVault(svc.config.UPLOADS_DIR).init();
  for (let i = 0; i < 100 && (await vault.list()).length > 1; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(await vault.list(), [poison]);
  // The intake's first sweep after a start releases it: the operator has fixed what killed the worker.
  await reconcile(vault, queue, createLog('silent', 'test'), { releaseStalled: true });
  assert.equal((await waitForInbox(svc.config.INBOX_DIR, 2, 30_000)).length, 2);
});
