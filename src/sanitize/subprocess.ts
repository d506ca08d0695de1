/**
 * Runs a parser of hostile media (ffmpeg, exiftool, qpdf, ...) as a child process, never in ours.
 *
 * Threat: a crafted file that exploits a decoder, or simply asks it for 50 GB of RAM or an hour of CPU.
 * Defence: prlimit caps address space, CPU seconds and file size; a wall-clock timer kills the whole
 * process; there is no shell. Output is captured only to decide success; it never reaches our logs,
 * because a tool's diagnostics can quote metadata (a camera serial, a GPS tag) we are removing.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { Readable } from 'node:stream';

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

/**
 * Sets the send buffer of the socket that is its standard output (argument 1, in bytes), then runs
 * the rest of its arguments. Node has no call for a socket option on a child's stdio (a socketpair);
 * perl, which exiftool already needs, has. A fixed program: nothing in it or in its arguments comes
 * from a tipster, and exec runs no shell. `0 +`: perl would pass a string's bytes, not its number.
 * Best effort: the kernel caps the size at net.core.wmem_max (and doubles what it grants). An exec
 * that fails says so on stderr and exits 127, which fails the tool as a missing one would. `--`
 * ends perl's own switches, so no argument after it is read as one.
 */
const SET_SEND_BUFFER = 'use Socket; setsockopt(STDOUT, SOL_SOCKET, SO_SNDBUF, 0 + shift); exec { $ARGV[0] } @ARGV; print STDERR "exec $ARGV[0] failed: $!\n"; exit 127';

/** The tool under prlimit, with no shell and a minimal environment: no proxies, no locale surprises. */
function spawnLimited(
  cmd: string, args: string[], l: Required<ToolLimits>, progressFd = false, sendBuffer?: number,
): ChildProcessByStdio<null, Readable, Readable> {
  const prlimitArgs = [
    `--as=${l.memoryBytes}`,
    `--cpu=${l.cpuSeconds}`,
    `--fsize=${l.fileBytes}`,
    // 1 byte, not 0: with a crash handler in core_pattern (apport, systemd-coredump) the kernel
    // ignores a limit of 0 and pipes the whole dump to it; 1 is its "no dump" (fs/coredump.c).
    '--core=1',
    '--',
    cmd,
    ...args,
  ];
  const [file, argv] = sendBuffer === undefined
    ? ['prlimit', prlimitArgs]
    : ['perl', ['-e', SET_SEND_BUFFER, '--', String(sendBuffer), 'prlimit', ...prlimitArgs]];
  return spawn(file, argv, {
    stdio: progressFd ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    // TMPDIR: the intake's, in RAM scratch (temp-in-scratch.ts), should a tool ever spill.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}) },
  }) as ChildProcessByStdio<null, Readable, Readable>;
}

export function runTool(cmd: string, args: string[], limits: ToolLimits = {}): Promise<ToolResult> {
  const l = { ...DEFAULTS, ...limits };
  return new Promise((resolve, reject) => {
    const child = spawnLimited(cmd, args, l);
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

export interface StreamedTool {
  /** The tool's standard output, a pipe: read it, or hand it to another child as its stdin. */
  stdout: Readable;
  /** The exit, with what the tool wrote to `-progress pipe:3` (the last 64 KiB of it). */
  exited: Promise<ToolResult & { progress: string }>;
  kill(): void;
}

/**
 * The same tool, under the same limits, with its standard output left as a pipe for the caller:
 * read in Node, or passed straight to another process (a full pipe stops the tool). Whoever uses
 * the output must also wait for `exited`: a pipe ends the same way whether the tool succeeded or
 * failed after writing most of its output. `sendBuffer`: how far, in bytes, the tool may write
 * ahead of whoever reads the pipe (SET_SEND_BUFFER).
 */
export function streamTool(cmd: string, args: string[], limits: ToolLimits = {}, opts: { sendBuffer?: number } = {}): StreamedTool {
  const l = { ...DEFAULTS, ...limits };
  const child = spawnLimited(cmd, args, l, true, opts.sendBuffer);
  let err = '';
  let progress = '';
  child.stderr.on('data', (b: Buffer) => {
    if (err.length < MAX_STDERR) err += b.toString('utf8');
  });
  (child.stdio[3] as Readable).on('data', (b: Buffer) => {
    progress = (progress + b.toString('utf8')).slice(-MAX_STDERR);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), l.timeoutMs);
  const exited = new Promise<ToolResult & { progress: string }>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.alloc(0), stderr: err, progress });
    };
    child.on('error', () => done(null, null));
    child.on('close', done);
  });
  return {
    stdout: child.stdout,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
