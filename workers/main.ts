/** Starts the editorial worker alone, against REDIS_URL. */
import { loadConfig } from '../src/config.ts';
import { createLog } from '../src/log.ts';
import { startEditorialWorker } from './editorial.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLog(config.LOG_LEVEL, 'worker');
  const worker = await startEditorialWorker(config, log);
  const stop = () => {
    log.info('stopping: finishing deliveries in flight');
    void worker.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 30_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`buzon worker: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
