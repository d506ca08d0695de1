/**
 * ffmpeg's HEVC output with its moov cleaned (video-moov-stream.ts), without the video crossing our
 * event loop: we read only the head of the stream, up to and including the moov, and a `cat` joins
 * the cleaned head and the rest of ffmpeg's pipe into one pipe that gpg reads directly.
 *
 * Why: before this, every byte of an HEVC video passed through the intake to reach gpg, on the event
 * loop that also receives uploads and notes. It cost the loop ~1 s per GiB and left the intake 6 MiB
 * under its memory goal with twenty HEVC uploads at once (BENCHMARKS.md, rounds 8 and 9).
 *
 * How: `sh -c 'cat <&3 && exec cat'` gets ffmpeg's pipe as its stdin and a pipe from us as fd 3. The
 * first cat copies fd 3 (the cleaned head, and whatever of ffmpeg's output we read past the moov)
 * until we close it; only then does the second cat read ffmpeg's pipe, from where we stopped. We
 * stop by draining what Node has buffered and closing our end in the same tick, so no byte is read
 * twice or skipped: both processes share one pipe, and only one of them ever reads it at a time.
 * Threat: a layout other than the one we clean is refused (takeCleanHead), and then nothing after
 * the refusal is passed on: the joiner is killed and the caller's `done` rejects, so the sealed
 * draft is thrown away.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { takeCleanHead, type MoovCounter } from './video-moov-stream.ts';

export interface SplicedOutput {
  /** The joined pipe: untouched by us, so a gpg can take it as its stdin (seal-gpg.ts). */
  stream: Readable;
  /** Settles once the joiner has exited: rejects if the head was refused or the copy failed. */
  done: Promise<void>;
  kill(): void;
}

/** The output must not be kept: its layout was refused (`layout`), or the copy failed or was stopped. */
export class SpliceFailed extends Error {
  constructor(message: string, readonly layout = false) {
    super(message);
  }
}

export function spliceCleanMoov(ffmpegOut: Readable, counter: MoovCounter): SplicedOutput {
  const joiner = spawn('sh', ['-c', 'cat <&3 && exec cat'], {
    stdio: [ffmpegOut, 'pipe', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
  });
  const headIn = joiner.stdio[3] as Writable;
  // The first cat may be gone (killed) before we write: its pipe's error is the joiner's exit code's to report.
  headIn.on('error', () => {});
  let refusal: SpliceFailed | undefined;
  const kill = () => {
    if (joiner.exitCode === null && joiner.signalCode === null) joiner.kill('SIGKILL');
  };
  const refuse = (e: SpliceFailed) => {
    if (refusal !== undefined) return;
    refusal = e;
    detach();
    kill();
    ffmpegOut.destroy();
    headIn.destroy();
  };

  let head: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    let taken: ReturnType<typeof takeCleanHead>;
    try {
      taken = takeCleanHead(head, counter);
    } catch (e) {
      return refuse(new SpliceFailed(e instanceof Error ? e.message : 'refused', true));
    }
    if (!taken) return;
    // Whatever Node has read ahead goes with the head; then our end closes before the next turn
    // of the event loop, so the second cat is the only reader of ffmpeg's pipe from here on.
    detach();
    ffmpegOut.pause();
    const ahead: Buffer[] = [];
    for (let b: Buffer | null; (b = ffmpegOut.read() as Buffer | null) !== null;) ahead.push(b);
    ffmpegOut.destroy();
    head = Buffer.alloc(0);
    headIn.end(Buffer.concat([...taken.out, taken.rest, ...ahead]));
  };
  const onEnd = () => refuse(new SpliceFailed('no moov', true));
  const onError = () => refuse(new SpliceFailed('ffmpeg\'s output failed'));
  function detach() {
    ffmpegOut.off('data', onData);
    ffmpegOut.off('end', onEnd);
    ffmpegOut.off('error', onError);
  }
  ffmpegOut.on('data', onData);
  ffmpegOut.on('end', onEnd);
  ffmpegOut.on('error', onError);
  // spawn() paused our end, since the joiner shares it; until the moov has passed, the joiner does
  // not read it, and we do.
  ffmpegOut.resume();

  const done = new Promise<void>((resolve, reject) => {
    const settle = (code: number | null) => {
      if (refusal !== undefined) reject(refusal);
      else if (code !== 0) reject(new SpliceFailed(`the joiner exited ${code}`));
      else resolve();
    };
    joiner.on('error', () => settle(null));
    joiner.on('close', settle);
  });
  done.catch(() => {}); // settled by the caller
  return { stream: joiner.stdout!, done, kill: () => refuse(new SpliceFailed('stopped')) };
}
