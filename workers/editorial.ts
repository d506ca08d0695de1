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
import { deliverToInbox, sweepInbox } from '../src/delivery/inbox.ts';
import { forgetEvents, type EventsForgetter } from '../src/queue/forget-events.ts';

/** Each worker's events forgetter, for its process's stop (workers/main.ts). */
export const eventsOf = new WeakMap<Worker, EventsForgetter>();

/**
 * A job whose worker died (SIGKILL, OOM, power) is handed to another worker only once its lock has
 * lapsed and a stalled check has seen it. BullMQ's defaults (30 s lock, 30 s check) leave a tip
 * waiting up to a minute; 10 s and 5 s bring that under 15 s. The cost is that a worker whose event
 * loop stalls for more than 10 s loses its lock and the tip is worked on twice, which delivery
 * tolerates (see src/delivery/inbox.ts). Deliveries are hard links or kernel copies, and their metadata
 * calls take microseconds on a local disk; an inbox on a filesystem that hangs would stall the loop
 * past the lock, and the tip would be delivered by the next attempt.
 */
const LOCK_MS = 10_000;
const STALLED_CHECK_MS = 5_000;
/**
 * BullMQ fails a job outright once it has stalled more than maxStalledCount times (default 1), and a
 * failed job id also blocks the outbox sweep from queueing the tip again: the tip would sit in the
 * vault for ever. A stall is harmless here (delivery is idempotent), so allow many.
 */
const MAX_STALLED = 1000;
/** Staging folders left by killed workers are swept at start and then this often. */
const SWEEP_MS = 60_000;

export async function startEditorialWorker(config: Config, log: Logger): Promise<Worker<TipJob>> {
  const vault = await new FsVault(config.UPLOADS_DIR).init();
  mkdirSync(config.INBOX_DIR, { recursive: true, mode: 0o700 });
  const sweep = () => sweepInbox(vault, config.INBOX_DIR).then(
    (n) => { if (n > 0) log.info({ folders: n }, 'removed staging folders left by a crash'); },
    () => log.warn('inbox sweep failed; will try again'),
  );
  await sweep();
  // enableOfflineQueue is turned back on for the worker. src/redis.ts turns it off so the intake's
  // enqueue fails fast into the outbox; but a BullMQ Worker whose Redis is SIGKILLed while jobs are
  // active then spins (~80% CPU) retrying commands that fail at once, never reconnects, and never takes
  // another job: seen in the crash test (CRASH_SEED=1) and reproduced alone. BullMQ's own advice is
  // the same: fail fast for producers, offline queue on for workers.
  const worker = new Worker<TipJob>(
    QUEUE_NAME,
    async (job) => {
      const data = tipJob.parse(job.data);
      // attemptsStarted counts every time the job went active: above 1, an earlier attempt (failed,
      // stalled, or cut by a crash) may have left a staging folder.
      const outcome = await deliverToInbox(vault, config.INBOX_DIR, data, { retry: job.attemptsStarted > 1 || job.stalledCounter > 0 });
      log.info({ tip: data.tipId, outcome }, 'tip delivered');
    },
    {
      connection: { ...redisOptions(config.REDIS_URL), enableOfflineQueue: true } as BullRedisOptions,
      concurrency: 4,
      lockDuration: LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount: MAX_STALLED,
    },
  );
  const timer = setInterval(() => void sweep(), SWEEP_MS);
  timer.unref();
  worker.on('closed', () => clearInterval(timer));
  // BullMQ's stream of job events, a history of tip ids and times (src/queue/forget-events.ts): gone
  // within a second of each delivery, and at start, in case a crash left some behind.
  const events = forgetEvents(worker);
  events.soon();
  worker.on('completed', () => events.soon());
  worker.on('failed', () => events.soon());
  eventsOf.set(worker, events);
  worker.on('failed', (job) => log.warn({ tip: job?.data.tipId, attempts: job?.attemptsMade }, 'delivery failed; will retry'));
  worker.on('error', () => log.warn('worker lost Redis; retrying'));
  log.info({ inbox: config.INBOX_DIR }, 'editorial worker started');
  return worker;
}
