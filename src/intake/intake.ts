/**
 * Wires the intake together from a validated config: keyring, scratch, vault, queue, outbox sweep.
 * Used by main.ts and, in-process, by the tests.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { loadKeyring, KeyringError, type Keyring } from '../crypto/keyring.ts';
import { disposeGpgSealer, prepareGpgSealer, sweepGpgHomes, type GpgSealer } from '../crypto/seal-gpg.ts';
import { SealThread } from '../crypto/seal-thread.ts';
import { ensureDemoKey } from '../crypto/demo-key.ts';
import { prepareScratch } from '../sanitize/scratch.ts';
import type { Scratch } from '../sanitize/types.ts';
import { FsVault } from '../vault/fs-vault.ts';
import { openTipsQueue } from '../queue/tips.ts';
import { startReconciler } from '../queue/reconcile.ts';
import { redisOptions } from '../redis.ts';
import { createApp } from './app.ts';
import { AbuseGate } from './abuse/gate.ts';
import { BytesInFlight } from './abuse/budget.ts';
import { randomBytes } from 'node:crypto';
import type express from 'express';

export interface Intake {
  app: express.Express;
  keyring: Keyring;
  /** Set when videos are sealed with gpg (BULK_SEALER). */
  gpg?: GpgSealer;
  /** From now on /readyz says 503, so a proxy stops sending new tips here. */
  stopping(): void;
  close(): Promise<void>;
}

/** How long before an editor key expires the log says so, at start and then daily. */
const EXPIRY_WARNING_MS = 30 * 24 * 3600_000;
const DAY_MS = 24 * 3600_000;

function dateOf(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/**
 * Keys are read at start only, and openpgp.js and gpg both refuse to seal to an expired key: from
 * the day one expires, every tip is refused until it is renewed (or removed) and the service is
 * restarted. A service that runs for months says so ahead of time.
 */
export function warnExpiring(keyring: Keyring, log: Logger, now = Date.now()): void {
  for (const e of keyring.editors) {
    if (!e.expires || e.expires.getTime() - now >= EXPIRY_WARNING_MS) continue;
    if (e.expires.getTime() <= now) {
      log.error({ file: e.file, expires: dateOf(e.expires) }, 'editor key has expired: every tip is refused until it is renewed (or removed) and the service restarted');
    } else {
      log.warn({ file: e.file, expires: dateOf(e.expires) }, 'editor key expires soon: renew it and restart, or every tip will be refused from that day');
    }
  }
}

export async function loadEditors(config: Config, log: Logger): Promise<Keyring> {
  if (config.NODE_ENV !== 'production' && (await ensureDemoKey(config.KEYS_DIR, config.DEMO_KEY_DIR))) {
    log.warn(`DEMO KEYS: made a demo editor key; its secret key is in ${config.DEMO_KEY_DIR}. Not for real tips.`);
  }
  const keyring = await loadKeyring(config.KEYS_DIR);
  if (keyring.demo && config.NODE_ENV === 'production') {
    throw new KeyringError('demo-editor.asc: the demo editor key is refused with NODE_ENV=production; put your editors\' keys in KEYS_DIR');
  }
  // The demo key beside real ones: every tip would also be sealed to a key whose secret half sits
  // on this server (DEMO_KEY_DIR), so whoever seizes it reads every tip. Adding keys is not enough.
  const demoFiles = keyring.editors.filter((e) => e.demo).map((e) => e.file);
  if (demoFiles.length > 0 && demoFiles.length < keyring.editors.length) {
    throw new KeyringError(`${demoFiles.join(', ')}: the demo editor key is still in KEYS_DIR beside your editors' keys, and its secret key is on this server; remove ${demoFiles.join(', ')} and the ${config.DEMO_KEY_DIR} folder`);
  }
  for (const e of keyring.editors) {
    log.info({ file: e.file, fingerprint: e.fingerprint, demo: e.demo, expires: e.expires ? dateOf(e.expires) : 'never' }, 'editor key');
  }
  warnExpiring(keyring, log);
  if (keyring.demo) log.warn('DEMO KEYS IN USE: anyone with the demo secret key can read tips. Replace it before real use.');
  return keyring;
}

/** gpg for videos when BULK_SEALER allows and this machine's gpg passes the check (seal-gpg.ts). */
async function bulkSealer(config: Config, keyring: Keyring, log: Logger): Promise<GpgSealer | undefined> {
  if (config.BULK_SEALER === 'openpgp') return undefined;
  const swept = sweepGpgHomes();
  if (swept > 0) log.info({ homes: swept }, 'removed gpg homes left by intakes that are gone');
  const { sealer, reason } = await prepareGpgSealer(keyring.keys);
  if (sealer) {
    log.info('videos are sealed with gpg');
    return sealer;
  }
  if (config.BULK_SEALER === 'gpg') throw new KeyringError(`BULK_SEALER=gpg, but ${reason}`);
  log.warn(`videos are sealed with openpgp.js (about half as fast): ${reason}`);
  return undefined;
}

export async function createIntake(config: Config, log: Logger): Promise<Intake> {
  const keyring = await loadEditors(config, log);
  const scratch = prepareScratch(config.SCRATCH_DIR, config.SCRATCH_ALLOW_DISK);
  const gpg = await bulkSealer(config, keyring, log);
  try {
    return await assemble(config, log, keyring, scratch, gpg);
  } catch (e) {
    disposeGpgSealer(gpg);
    throw e;
  }
}

async function assemble(config: Config, log: Logger, keyring: Keyring, scratch: Scratch, gpg: GpgSealer | undefined): Promise<Intake> {
  const vault = await new FsVault(config.UPLOADS_DIR).init();
  const swept = await vault.sweepDrafts();
  if (swept > 0) log.info({ drafts: swept }, 'removed unacknowledged drafts left by a crash');
  const connection = redisOptions(config.REDIS_URL);
  const queue = openTipsQueue(connection);
  queue.on('error', () => { /* reported by /readyz; an unreachable Redis must not crash intake */ });
  const probe = new Redis({ ...connection, lazyConnect: true, retryStrategy: () => 1000 });
  probe.on('error', () => {});
  void probe.connect().catch(() => {});
  let draining = false;
  const redisReady = async () => {
    if (draining) return false;
    try {
      return (await Promise.race([probe.ping(), new Promise((r) => setTimeout(() => r('timeout'), 1000))])) === 'PONG';
    } catch {
      return false;
    }
  };
  const stopSweep = startReconciler(vault, queue, log, config.OUTBOX_SWEEP_SECONDS * 1000);
  const expiryTimer = setInterval(() => warnExpiring(keyring, log), DAY_MS);
  expiryTimer.unref();
  const gate = new AbuseGate(config.ABUSE_SECRET ? Buffer.from(config.ABUSE_SECRET) : randomBytes(32), {
    tipsPerMinute: config.TIPS_PER_MINUTE,
    ticketTipsPerMinute: config.NOJS_TIPS_PER_MINUTE,
    bareTipsPerMinute: config.BARE_TIPS_PER_MINUTE,
    ticketMinSeconds: config.NOJS_MIN_SECONDS,
    powBaseCounter: config.POW_BASE_COUNTER,
  });
  const inFlight = new BytesInFlight(config.BYTES_IN_FLIGHT_MAX);
  const manifests = new SealThread(keyring.keys);
  const app = createApp({
    config, log, keyring, vault, scratch, queue, redisReady, gate, inFlight,
    limits: { maxNoteChars: config.MAX_NOTE_CHARS, maxLinks: config.MAX_LINKS },
    sealThreads: config.SEAL_THREADS,
    gpg,
    manifests,
  });
  return {
    app,
    keyring,
    gpg,
    stopping() {
      draining = true;
    },
    async close() {
      stopSweep();
      clearInterval(expiryTimer);
      await queue.close().catch(() => {});
      probe.disconnect();
      disposeGpgSealer(gpg);
      await manifests.close();
    },
  };
}
