/**
 * A whole Buzón in one test: a real Redis, the intake in-process behind supertest, and the editorial
 * worker, each with its own temp folders. Logs are captured so tests can search them for leaks.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Worker } from 'bullmq';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLog } from '../../src/log.ts';
import { createIntake, type Intake } from '../../src/intake/intake.ts';
import { startEditorialWorker } from '../../workers/editorial.ts';
import type { TipJob } from '../../src/queue/tips.ts';
import { startRedis, type TestRedis } from './redis.ts';
import { removeDirs, tempDir } from './cleanup.ts';

export interface TestService {
  root: string;
  config: Config;
  intake: Intake;
  redis: TestRedis;
  worker?: Worker<TipJob>;
  logs: string[];
  startWorker(): Promise<Worker<TipJob>>;
  /** Stops the worker, the intake and Redis, then removes root and scratch. */
  stop(): Promise<void>;
}

export function testRoot(): string {
  return tempDir('buzon-test-');
}

export function testConfig(root: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    REDIS_URL: 'redis://127.0.0.1:1',
    KEYS_DIR: join(root, 'keys'),
    UPLOADS_DIR: join(root, 'uploads'),
    INBOX_DIR: join(root, 'inbox'),
    DEMO_KEY_DIR: join(root, 'demo-editor'),
    SCRATCH_DIR: tempDir('buzon-test-', '/dev/shm'),
    PARTIALS_DIR: join(root, 'partials'),
    LOG_LEVEL: 'info',
    // Budgets wide open, except in the tests of abuse control, which set their own.
    TIPS_PER_MINUTE: '1000000',
    BARE_TIPS_PER_MINUTE: '1000000',
    NOJS_TIPS_PER_MINUTE: '1000000',
    NOJS_MIN_SECONDS: '0',
    POW_BASE_COUNTER: '20',
    ...env,
  });
}

export interface ServiceOptions {
  /** Removed by stop(), as a fresh one would be. */
  root?: string;
  env?: Record<string, string>;
  worker?: boolean;
  redis?: TestRedis;
  /** Editors' armored public keys, written to KEYS_DIR as editor-N.asc. None: the demo key is made. */
  editors?: string[];
}

export async function startService(opts: ServiceOptions = {}): Promise<TestService> {
  const root = opts.root ?? testRoot();
  mkdirSync(join(root, 'keys'), { recursive: true });
  opts.editors?.forEach((armored, i) => writeFileSync(join(root, 'keys', `editor-${i + 1}.asc`), armored));
  const redis = opts.redis ?? (await startRedis(join(root, 'redis')));
  const config = testConfig(root, { REDIS_URL: redis.url, ...opts.env });
  const logs: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _e, cb) { logs.push(chunk.toString()); cb(); } });
  const removeFolders = () => removeDirs(root, config.SCRATCH_DIR);
  let intake: Intake;
  try {
    intake = await createIntake(config, createLog('debug', 'intake', sink));
  } catch (e) {
    await redis.stop();
    removeFolders();
    throw e;
  }
  const svc: TestService = {
    root, config, intake, redis, logs,
    async startWorker() {
      svc.worker = await startEditorialWorker(config, createLog('debug', 'worker', sink));
      return svc.worker;
    },
    async stop() {
      try {
        await svc.worker?.close();
        await intake.close();
        await redis.stop();
      } finally {
        removeFolders();
      }
    },
  };
  if (opts.worker !== false) await svc.startWorker().catch(async (e: unknown) => { await svc.stop(); throw e; });
  return svc;
}
