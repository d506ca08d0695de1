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

test('a tip whose delivery failed every attempt is started over by the outbox sweep and delivered; a failed job for a tip no longer in the vault is dropped', async (t) => {
  // The intake's own sweep is pushed out of the way: this test runs the sweep itself.
  const svc = await startService({ worker: false, env: { OUTBOX_SWEEP_SECONDS: '3600' } });
  // Commands wait for the connection here, as the worker's do (src/redis.ts fails fast, for the intake).
  const connection = { ...redisOptions(svc.redis.url), enableOfflineQueue: true };
  const queue = openTipsQueue(connection);
  t.after(async () => {
    await queue.close();
    await svc.stop();
  });

  await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', 'entregar tarde').expect(201);
  const [tipId] = await new FsVault(svc.config.UPLOADS_DIR).init().then((v) => v.list());
  assert.ok(tipId);
  // A job for a tip that is no longer in the vault (delivered, then its job failed on the way out).
  const stale = newTipId();
  await enqueueTip(queue, { tipId: stale, files: [{ name: 'manifest.json.pgp', size: 1 }] });

  const failing = new Worker(QUEUE_NAME, async () => { throw new UnrecoverableError('the inbox cannot be written'); }, { connection: connection as BullRedisOptions });
  for (let i = 0; i < 300 && (await queue.getFailedCount()) < 2; i++) await new Promise((r) => setTimeout(r, 100));
  await failing.close();
  assert.equal(await queue.getJobState(tipId), 'failed');
  assert.equal(await queue.getJobState(stale), 'failed');

  await svc.startWorker();
  await reconcile(await new FsVault(svc.config.UPLOADS_DIR).init(), queue, createLog('silent', 'test'));
  const [delivered] = await waitForInbox(svc.config.INBOX_DIR, 1, 30_000);
  assert.equal(basename(delivered!), tipId);
  // The stale one named a tip for nothing, and Redis should name none it need not.
  assert.equal(await queue.getJob(stale), undefined);
});
