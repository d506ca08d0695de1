/**
 * Runs a parser of hostile media (ffmpeg, exiftool, qpdf, ...) as a child process, never in ours.
 *
 * Threat: a crafted file that exploits a decoder, or simply asks it for 50 GB of RAM or an hour of CPU.
 * Defence: prlimit caps address space, CPU seconds and file size; a wall-clock timer kills the whole
 * process; there is no shell. Output is captured only to decide success; it never reaches our logs,
 * because a tool's diagnostics can quote metadata (a camera serial, a GPS tag) we are removing.
 */
import { spawn } from 'node:child_process';

export interface ToolLimits {
  /** Wall-clock limit, then SIGKILL. */
  timeoutMs?: number;
  /** RLIMIT_AS in bytes. */
  memoryBytes?: number;
  /** RLIMIT_CPU in seconds. */
  cpuSeconds?: number;
  /** RLIMIT_FSIZE in bytes: the largest file the tool may write. */
  fileBytes?: number;
}

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** Kept for tests and for deciding why something failed; never log it. */
  stderr: string;
}

const DEFAULTS: Required<ToolLimits> = {
  timeoutMs: 10 * 60_000,
  memoryBytes: 2 * 1024 ** 3,
  cpuSeconds: 20 * 60,
  fileBytes: 8 * 1024 ** 3,
};

/** Caps on what we keep of a tool's output in memory. */
const MAX_STDOUT = 64 * 1024 * 1024;
const MAX_STDERR = 64 * 1024;

export function runTool(cmd: string, args: string[], limits: ToolLimits = {}): Promise<ToolResult> {
  const l = { ...DEFAULTS, ...limits };
  const prlimitArgs = [
    `--as=${l.memoryBytes}`,
    `--cpu=${l.cpuSeconds}`,
    `--fsize=${l.fileBytes}`,
    '--core=0',
    '--',
    cmd,
    ...args,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('prlimit', prlimitArgs, {
      stdio: ['ignore', 'pipe', 'pipe'],
      // A minimal environment: no proxies, no locale surprises, nothing of ours leaks in.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
    });
    const out: Buffer[] = [];
    let outLen = 0;
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      if (outLen < MAX_STDOUT) { out.push(b); outLen += b.length; }
    });
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < MAX_STDERR) err += b.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), l.timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
}
