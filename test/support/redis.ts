/** A real redis-server for a test: its own port, its own folder, AOF on as in production. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { killAtExit } from './cleanup.ts';

export interface TestRedis {
  url: string;
  dir: string;
  port: number;
  stop(): Promise<void>;
  /** Kills it hard, as a crash would. */
  kill(): void;
  restart(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** `dir` is the caller's, to remove once stopped; the server itself is killed at exit if still running. */
export async function startRedis(dir: string): Promise<TestRedis> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  let child: ChildProcess;
  const launch = async () => {
    child = killAtExit(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes',
      '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: 'ignore' }));
    for (let i = 0; i < 100; i++) {
      const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      r.on('error', () => {});
      const ok = await r.connect().then(() => r.ping()).then(() => true, () => false);
      r.disconnect();
      if (ok) return;
      await sleep(50);
    }
    child.kill('SIGKILL');
    throw new Error('redis-server did not start');
  };
  await launch();
  const handle: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    dir,
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
    kill() {
      child.kill('SIGKILL');
    },
    async restart() {
      await handle.stop();
      await launch();
    },
  };
  return handle;
}
