/**
 * ffmpeg's HEVC output with its moov cleaned (video-moov-stream.ts), without the video crossing our
 * event loop: we read only the head of the stream, up to and including the moov, and `cat`s join the
 * cleaned head and the rest of ffmpeg's pipe into one pipe that gpg reads directly.
 *
 * Why: before this, every byte of an HEVC video passed through the intake on its way to gpg, on the
 * event loop that also receives uploads and notes: a 1 GiB fast-start HEVC tip was acknowledged
 * after ~8 s against ~5.7 s now (BENCHMARKS.md, round 10).
 *
 * How: the joiner, `sh -c 'cat <&3 && exec cat <&4'`, starts with ffmpeg. Its first cat copies fd 3,
 * which carries the cleaned head from us (and whatever of ffmpeg's output we read past the moov),
 * until we close it; only then does its second cat copy fd 4. At the handover, a `cat` is started
 * with ffmpeg's pipe as its stdin and fd 4's other end as its stdout, and in the same tick we close
 * our end of ffmpeg's pipe, having drained what Node had read: no byte is read twice or skipped.
 * ffmpeg's pipe is handed to a child only once we have stopped reading it. Handing it over sooner
 * would make our own reads blocking: a child's stdin is set to blocking mode, and the mode belongs to
 * the open file description, which the child's stdin and our end share (review, session 8).
 * Threat: a layout other than the one we clean is refused (takeCleanHead), and then nothing is passed
 * on: the joiner's inputs are closed before a byte reaches them, and `done` rejects, so the sealed
 * draft is thrown away. After the handover, a stop kills the joiner's process group and the rest's
 * cat whole.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Readable, type Writable } from 'node:stream';
import { HeadGatherer, type MoovCounter } from './video-moov-stream.ts';

export interface SplicedOutput {
  /** The joined pipe: untouched by us, so a gpg can take it as its stdin (seal-gpg.ts). Read it at once. */
  stream: Readable;
  /** Settles once the joiner and the rest's cat have exited: rejects if the head was refused or a copy failed. */
  done: Promise<void>;
  kill(): void;
}

/** The output must not be kept: its layout was refused (`layout`), or a copy failed or was stopped. */
export class SpliceFailed extends Error {
  constructor(message: string, readonly layout = false) {
    super(message);
  }
}

/** Read at each spawn: nothing of the intake's own environment but where the tools are. */
const env = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' });

/** `child`'s exit code, or null when it could not start or was killed. */
function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** The child `run` starts, or undefined if it could not start (a throw, or no process: EMFILE, ENOMEM...). */
function started(run: () => ChildProcess): ChildProcess | undefined {
  try {
    const child = run();
    child.once('error', () => {}); // reported by exitOf
    if (child.pid !== undefined) return child;
  } catch {
    /* refused below */
  }
  return undefined;
}

function notStarted(ffmpegOut: Readable): SplicedOutput {
  ffmpegOut.destroy();
  const failed = Promise.reject(new SpliceFailed('could not start the joiner'));
  failed.catch(() => {});
  return { stream: Readable.from([]), done: failed, kill() {} };
}

/** `restCommand`: what copies the rest; only tests name another (a missing one, to see that refused). */
export function spliceCleanMoov(ffmpegOut: Readable, counter: MoovCounter, restCommand = 'cat'): SplicedOutput {
  const joiner = started(() => spawn('sh', ['-c', 'cat <&3 && exec cat <&4'], {
    stdio: ['ignore', 'pipe', 'ignore', 'pipe', 'pipe'],
    env: env(),
    detached: true, // its own process group: killing it must also kill the cat it is running
  }));
  if (!joiner) return notStarted(ffmpegOut);
  const joinerExit = exitOf(joiner);
  const [, out, , headIn, restIn] = (joiner.stdio ?? []) as Array<Readable & Writable | null>;
  if (!out || !headIn || !restIn) {
    killGroup(joiner);
    return notStarted(ffmpegOut);
  }
  // A killed cat closes its pipe under our writes: the exit codes report that, not these errors.
  headIn.on('error', () => {});
  restIn.on('error', () => {});
  let restExit: Promise<number | null> = Promise.resolve(0);
  let rest: ChildProcess | undefined;

  let refusal: SpliceFailed | undefined;
  const gather = new HeadGatherer(counter);
  const refuse = (e: SpliceFailed) => {
    if (refusal !== undefined) return;
    refusal = e;
    detach();
    gather.clear();
    // Before the handover the joiner has been given nothing: closing its inputs ends both its cats,
    // reaped by its sh, where a kill would leave an orphan for PID 1 to reap (a container without an
    // init never does: review, session 8). After it, a cat may be blocked writing to a stalled
    // reader, and only a kill stops it.
    if (rest) {
      killGroup(joiner);
      killGroup(rest);
    }
    ffmpegOut.destroy();
    headIn.destroy();
    restIn.destroy();
  };

  const onData = (chunk: Buffer) => {
    let taken: ReturnType<HeadGatherer['add']>;
    try {
      taken = gather.add(chunk);
    } catch (e) {
      return refuse(new SpliceFailed(e instanceof Error ? e.message : 'refused', true));
    }
    if (!taken) return;
    // Whatever Node has read ahead goes with the head, then the rest's cat takes ffmpeg's pipe and
    // our end of it closes, before the event loop could read from it again.
    detach();
    ffmpegOut.pause();
    const ahead: Buffer[] = [];
    for (let b: Buffer | null; (b = ffmpegOut.read() as Buffer | null) !== null;) ahead.push(b);
    rest = started(() => spawn(restCommand, [], { stdio: [ffmpegOut, restIn, 'ignore'], env: env(), detached: true }));
    if (!rest) return refuse(new SpliceFailed('could not start the copy of the rest'));
    restExit = exitOf(rest);
    ffmpegOut.destroy();
    restIn.destroy();
    headIn.end(Buffer.concat([...taken.out, taken.rest, ...ahead]));
  };
  const onEnd = () => refuse(new SpliceFailed('no moov', true));
  const onError = () => refuse(new SpliceFailed("ffmpeg's output failed"));
  function detach() {
    ffmpegOut.off('data', onData);
    ffmpegOut.off('end', onEnd);
    ffmpegOut.off('error', onError);
  }
  ffmpegOut.on('data', onData);
  ffmpegOut.on('end', onEnd);
  ffmpegOut.on('error', onError);

  const done = joinerExit.then(async (code) => {
    const restCode = await restExit;
    if (refusal !== undefined) throw refusal;
    if (rest === undefined) throw new SpliceFailed('the joiner ended before the moov');
    if (code !== 0 || restCode !== 0) throw new SpliceFailed(`the copy failed (${code}, ${restCode})`);
  });
  done.catch(() => {}); // settled by the caller
  return { stream: out, done, kill: () => refuse(new SpliceFailed('stopped')) };
}
