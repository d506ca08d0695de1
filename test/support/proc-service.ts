/**
 * Buzón's parts as real child processes (`node --import tsx …`), so a test can SIGKILL one at any
 * instant, as a crash or the OOM killer would, and start it again with the same settings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { killAtExit, removeDirs, tempDir } from './cleanup.ts';

export interface ProcOptions {
  name: string;
  /** Entry point, relative to the project root (the test's working directory). */
  script: string;
  env: Record<string, string>;
  /** Resolves once the process can do its work; polled, so it must be cheap. */
  ready: (proc: Proc) => Promise<boolean>;
  /** Every line the process writes goes here, for reading after a failure. */
  logFile: string;
}

export class Proc {
  private child: ChildProcess | undefined;
  private exited: Promise<{ code: number | null; signal: string | null }> = Promise.resolve({ code: null, signal: null });
  private readonly log: WriteStream;
  /** The child's TMPDIR, removed by close(): what a killed process leaves there (the intake's gpg home) goes too. */
  readonly tmp = tempDir('buzon-proc-');
  /** Everything the current incarnation has written to stdout, for readiness checks on log lines. */
  output = '';
  starts = 0;

  constructor(private readonly opts: ProcOptions) {
    this.log = createWriteStream(opts.logFile, { flags: 'a' });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    this.starts++;
    this.output = '';
    this.log.write(`\n--- ${this.opts.name} start #${this.starts}\n`);
    const child = killAtExit(spawn(process.execPath, ['--import', 'tsx', this.opts.script], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TMPDIR: this.tmp, ...this.opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stdout!.on('data', (b: Buffer) => { this.output += b.toString(); this.log.write(b); });
    child.stderr!.on('data', (b: Buffer) => this.log.write(b));
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (!this.running) throw new Error(`${this.opts.name} exited during start; see ${this.opts.logFile}`);
      if (await this.opts.ready(this).catch(() => false)) return;
      await sleep(50);
    }
    throw new Error(`${this.opts.name} not ready after ${timeoutMs} ms; see ${this.opts.logFile}`);
  }

  /** SIGKILL: no handler runs, nothing is flushed, as in a crash. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.log.write(`\n--- ${this.opts.name} SIGKILL\n`);
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then waits at most `timeoutMs` for the exit (SIGKILL after that). */
  async term(timeoutMs = 20_000): Promise<{ code: number | null; signal: string | null; ms: number }> {
    const t0 = Date.now();
    if (!this.running) return { ...(await this.exited), ms: 0 };
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    const r = await this.exited;
    clearTimeout(timer);
    return { ...r, ms: Date.now() - t0 };
  }

  async close(): Promise<void> {
    await this.kill();
    await new Promise((r) => this.log.end(r));
    removeDirs(this.tmp);
  }
}

/** The intake answers /healthz. */
export function httpReady(port: number): () => Promise<boolean> {
  return async () => (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
}

/** The worker says so in its log once its vault and inbox are ready and it has joined the queue. */
export function logReady(line: string): (p: Proc) => Promise<boolean> {
  return async (p) => p.output.includes(line);
}
