/**
 * The editorial worker: takes a queued tip, checks its sealed files against the sizes in the job,
 * and delivers it to the inbox folder. It never holds a key that can open a tip; it moves ciphertext.
 */
import { mkdirSync } from 'node:fs';
import { Worker, type RedisOptions as BullRedisOptions } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../src/config.ts';
import { redisOptions } from '../src/redis.ts';
import { FsVault } from '../src/vault/fs-vault.ts';
import { QUEUE_NAME, tipJob, type TipJob } from '../src/queue/tips.ts';
import { deliverToInbox } from '../src/delivery/inbox.ts';

export async function startEditorialWorker(config: Config, log: Logger): Promise<Worker<TipJob>> {
  const vault = await new FsVault(config.UPLOADS_DIR).init();
  mkdirSync(config.INBOX_DIR, { recursive: true, mode: 0o700 });
  const worker = new Worker<TipJob>(
    QUEUE_NAME,
    async (job) => {
      const data = tipJob.parse(job.data);
      const outcome = await deliverToInbox(vault, config.INBOX_DIR, data);
      log.info({ tip: data.tipId, outcome }, 'tip delivered');
    },
    { connection: redisOptions(config.REDIS_URL) as BullRedisOptions, concurrency: 4 },
  );
  worker.on('failed', (job) => log.warn({ tip: job?.data.tipId, attempts: job?.attemptsMade }, 'delivery failed; will retry'));
  worker.on('error', () => log.warn('worker lost Redis; retrying'));
  log.info({ inbox: config.INBOX_DIR }, 'editorial worker started');
  return worker;
}
