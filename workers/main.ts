/** Starts the editorial worker alone, against REDIS_URL. */
import { existsSync, readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { Logger } from 'pino';
import { loadConfig } from '../src/config.ts';
import { createLog } from '../src/log.ts';
import { eventsOf, startEditorialWorker } from './editorial.ts';

/**
 * How long SIGTERM waits for deliveries in flight. Kept under the 10 s that Docker and systemd give
 * before they SIGKILL, so that we, not they, decide how the queue is left. A delivery cut at the
 * deadline is safe: its job stays active, its lock lapses, and another attempt finishes it
 * (delivery is idempotent); only the wait for the lock is lost.
 */
const DRAIN_MS = 8_000;
/** After the deadline, a forced close that hangs (Redis gone) must not keep the process alive. */
const FORCE_MS = 1_500;

/**
 * Past the deadline we end as a crash would, with SIGKILL on ourselves, not process.exit: a delivery
 * stuck in a blocking read (a hung network inbox) holds a libuv pool thread, and process.exit waits
 * for those threads for ever. A crash is what delivery is built to survive (test/e2e/crash.test.ts).
 */
function die(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

/**
 * Tipsters first: a tipster waits on the intake, while a delivery a few seconds later harms no one
 * (BENCHMARKS.md, round 5). On Linux niceness belongs to each thread, and the runtime has made its
 * threads (libuv's pool, which runs our fsyncs; V8's helpers) before this line runs, so each is
 * lowered by its id; threads made later inherit it.
 */
function lowerPriority(nice: number, log: Logger): void {
  try {
    const tids = existsSync('/proc/self/task') ? readdirSync('/proc/self/task').map(Number) : [0];
    for (const tid of tids) setPriority(tid, nice);
  } catch {
    log.warn({ nice }, 'could not lower the worker\'s CPU priority');
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLog(config.LOG_LEVEL, 'worker');
  lowerPriority(config.WORKER_NICE, log);
  const worker = await startEditorialWorker(config, log);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // close() stops taking jobs at once, waits for the active ones, then closes the Redis connections.
    log.info('stopping: no new tips; finishing deliveries in flight');
    const deadline = setTimeout(() => {
      log.warn('stopping: deadline reached; deliveries in flight will be retried by another worker');
      setTimeout(die, FORCE_MS).unref();
      void worker.close(true).finally(die);
    }, DRAIN_MS);
    void worker.close().then(
      async () => {
        // The last second's deliveries are still in BullMQ's events stream: it goes now, not never.
        await eventsOf.get(worker)?.afterClose(config.REDIS_URL);
        clearTimeout(deadline);
        log.info('stopped cleanly');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`buzon worker: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
