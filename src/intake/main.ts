/** Starts the intake alone, against REDIS_URL. `npm start` runs it with the worker and Redis. */
import { loadConfig } from '../config.ts';
import { createLog } from '../log.ts';
import { createIntake } from './intake.ts';
import { createIntakeServer } from './server.ts';
import { disposeGpgSealer } from '../crypto/seal-gpg.ts';
import { abortAllEarly } from '../sanitize/video-early.ts';
import { tempInScratch } from '../sanitize/temp-in-scratch.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLog(config.LOG_LEVEL, 'intake');
  // Before anything is cleaned: a library's temporary files must land in RAM, never on disk.
  // (createIntake then checks that SCRATCH_DIR is tmpfs.)
  tempInScratch(config.SCRATCH_DIR);
  const intake = await createIntake(config, log);
  const server = createIntakeServer(intake.app);
  server.listen(config.PORT, config.HOST, () => {
    log.info({ host: config.HOST, port: config.PORT }, 'intake listening');
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    intake.stopping();
    log.info('stopping: no new tips; finishing those in flight');
    server.close(() => void intake.close().then(() => process.exit(0), () => process.exit(1)));
    server.closeIdleConnections();
    // Past the deadline, uploads still in flight are cut: their tipsters never saw a receipt, so
    // nothing acknowledged is lost. Keep DRAIN_SECONDS below the supervisor's own kill timeout.
    setTimeout(() => {
      log.warn('stopping: deadline reached; tips still uploading were not acknowledged');
      server.closeAllConnections();
      // ffmpegs following an upload still arriving would wait for it, and seal what came into a draft.
      abortAllEarly();
      // close() never ran: the gpg home would be left behind (the next start would sweep it).
      try { disposeGpgSealer(intake.gpg); } finally { process.exit(1); }
    }, config.DRAIN_SECONDS * 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`buzon intake: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
