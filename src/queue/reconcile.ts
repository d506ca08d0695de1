/**
 * The vault is also the outbox. A committed tip whose job could not be queued (Redis down at that
 * moment, or the intake killed right after the commit) is queued by this sweep, at start and then
 * periodically; so is one whose delivery failed every attempt. Queuing is idempotent (job id = tip
 * id), so sweeping a tip that is already queued, or already delivered but not yet removed from the
 * vault, is harmless.
 */
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Vault } from '../vault/vault.ts';
import { enqueueTip, type TipJob } from './tips.ts';

/** BullMQ's reasons for a job that stalled (or started) more often than allowed. */
const STALLED = /more than allowable limit/;
const toldStalled = new Set<string>();

/**
 * `releaseStalled`: start over the jobs set aside for stopping their workers too (below). The
 * intake's first sweep after each start does: the operator who fixed what killed the worker (its
 * memory limit, say) restarts the service, and those tips are delivered.
 */
export async function reconcile(vault: Vault, queue: Queue<TipJob>, log: Logger, opts: { releaseStalled?: boolean } = {}): Promise<number> {
  let queued = 0;
  const waiting = new Set<string>();
  for (const tipId of await vault.list()) {
    // A tip delivered between list() and here is gone from the vault; that must not abort the sweep
    // of the others, which may be the ones whose job Redis lost.
    const files = await vault.files(tipId).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    });
    if (files.length === 0) continue;
    waiting.add(tipId);
    await enqueueTip(queue, { tipId, files });
    queued++;
  }
  if (queued > 0) log.info({ tips: queued }, 'outbox swept');
  // A job that failed every attempt (an inbox unwritable for days) is kept as failed, and its id
  // makes the add above a no-op: the tip would wait in the vault for ever. It starts over instead,
  // with a fresh count of attempts. A failed job whose tip is no longer in the vault names a tip
  // for nothing: it goes.
  let retried = 0;
  for (const job of await queue.getFailed()) {
    if (!job?.id) continue;
    // A job failed for stalling its workers a thousand times (a tip whose delivery kills the worker)
    // would kill one more at each sweep: it is set aside, its tip in the vault, and said once, until
    // the intake's next start. BullMQ keeps its count of stalls, so a tip that really is poison
    // fails again at its first stall then: one stopped worker per start, not one per sweep.
    if (waiting.has(job.id) && STALLED.test(job.failedReason ?? '') && !opts.releaseStalled) {
      if (!toldStalled.has(job.id)) log.error({ tip: job.id }, 'a delivery that kept stopping its worker is set aside until the intake restarts; the tip stays in the vault');
      toldStalled.add(job.id);
      continue;
    }
    // Each on its own: another intake's sweep, or a worker, may have moved the job meanwhile.
    if (waiting.has(job.id)) {
      if (await job.retry('failed', { resetAttemptsMade: true }).then(() => true, () => false)) retried++;
    } else {
      await job.remove().catch(() => {});
    }
  }
  if (retried > 0) log.warn({ tips: retried }, 'deliveries that had failed every attempt start over');
  return queued;
}

export function startReconciler(vault: Vault, queue: Queue<TipJob>, log: Logger, everyMs: number): () => void {
  let running = false;
  let released = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await reconcile(vault, queue, log, { releaseStalled: !released });
      released = true;
    } catch {
      log.warn('outbox sweep failed; Redis may be down, tips stay in the vault');
    } finally {
      running = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
