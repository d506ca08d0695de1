/**
 * The BullMQ queue of tips to deliver. A job names a tip by its opaque id and lists the sizes of its
 * sealed files, so the worker can tell a truncated vault copy from a whole one. Nothing else: no
 * note, no file name, no type, nothing about the client, because Redis is kept on disk (AOF) and an
 * adversary who seizes it must learn no more than how many tips are waiting. (Its AOF still holds the
 * past commands, times included, until Redis rewrites it: README, threat model.)
 */
import { Queue, type RedisOptions as BullRedisOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import { SEALED_NAME, TIP_ID } from '../vault/vault.ts';

export const QUEUE_NAME = 'tips';

export const tipJob = z.object({
  tipId: z.string().regex(TIP_ID),
  files: z.array(z.object({ name: z.string().regex(SEALED_NAME), size: z.number().int().nonnegative() })).min(1),
}).strict();

export type TipJob = z.infer<typeof tipJob>;

export function openTipsQueue(connection: RedisOptions): Queue<TipJob> {
  return new Queue<TipJob>(QUEUE_NAME, {
    connection: connection as BullRedisOptions,
    // BullMQ's stream of job events (10,000 by default), a history of tip ids and times: capped at 0
    // here, and deleted by the worker after deliveries, since some events are added without the cap
    // (src/queue/forget-events.ts). The cap is the queue's last writer's: another Queue on 'tips'
    // made without it (a dashboard) sets it back to 10,000 until an intake starts again.
    streams: { events: { maxLen: 0 } },
    defaultJobOptions: {
      attempts: 20,
      backoff: { type: 'exponential', delay: 1000 },
      // Finished jobs are dropped, so Redis does not keep a history of tip ids.
      removeOnComplete: true,
      removeOnFail: false,
    },
  });
}

/** Idempotent: the job id is the tip id, so a re-queued tip is not queued twice. */
export async function enqueueTip(queue: Queue<TipJob>, job: TipJob): Promise<void> {
  await queue.add('deliver', tipJob.parse(job), { jobId: job.tipId });
}
