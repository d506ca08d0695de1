/** Starts the editorial worker alone, against REDIS_URL. */
import { loadConfig } from '../src/config.ts';
import { createLog } from '../src/log.ts';
import { startEditorialWorker } from './editorial.ts';

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

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLog(config.LOG_LEVEL, 'worker');
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
      () => { clearTimeout(deadline); log.info('stopped cleanly'); process.exit(0); },
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
