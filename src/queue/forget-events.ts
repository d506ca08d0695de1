/**
 * BullMQ keeps a stream of every job's steps (queued, active, completed), each entry named by its
 * millisecond: a history of tip ids and exact times, long after the jobs themselves are gone, in
 * Redis's memory, its snapshots and its rewritten AOF. Nobody here reads it. The queue caps it at 0
 * (tips.ts), but some steps (a job going active, completing, failing) are added without the cap, so
 * the worker deletes the whole key: a trim to 0 would still keep the last entry's id (a time to the
 * millisecond) and the count of every event ever added.
 */
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { redisOptions } from '../redis.ts';

/** The key is deleted at most this long after a delivery: one command however fast a burst drains. */
const SOON_MS = 1000;

export interface EventsForgetter {
  /** After a delivery: the stream goes within SOON_MS. */
  soon(): void;
  /** Once the worker is closed, on a connection of its own (the worker's are gone by then). */
  afterClose(redisUrl: string): Promise<void>;
}

export function forgetEvents(worker: Worker): EventsForgetter {
  const key = worker.keys.events!;
  let timer: NodeJS.Timeout | undefined;
  const drop = () => {
    timer = undefined;
    // A failure (Redis gone) leaves the stream to the next delivery, or to the next start.
    void worker.backend.client.then((c) => c.del(key)).catch(() => {});
  };
  return {
    soon() {
      timer ??= setTimeout(drop, SOON_MS).unref();
    },
    async afterClose(redisUrl) {
      if (timer) clearTimeout(timer);
      // A second at most: the worker's stop has its own deadline, and a Redis that does not answer
      // must not turn a clean stop into a killed one.
      const r = new Redis({ ...redisOptions(redisUrl), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 1000 });
      r.on('error', () => {});
      try {
        await r.connect();
        await r.del(key);
      } catch {
        // Redis is gone: the next worker's start deletes what is left.
      } finally {
        r.disconnect();
      }
    },
  };
}
