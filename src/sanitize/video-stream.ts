/**
 * MP4, M4V and MOV cleaned as a stream: ffmpeg remuxes (video-plan.ts chooses what it keeps) into a
 * pipe that the sealer reads, so remuxing and sealing run at once on two cores, the cleaned video is
 * never written to scratch, and a slow vault slows ffmpeg down (the pipe fills) instead of filling RAM.
 * The pipe goes from ffmpeg to gpg directly, without a hop through our event loop. For HEVC, only
 * the head of the output passes through us, so that the hvcC ffmpeg wrote is cleaned on its way;
 * `cat`s join it to the rest (video-moov-splice.ts). Cleaning the tipster's own moov instead, before
 * the remux, was faster but not safe: ffmpeg may take its HEVC configuration from a box we did not
 * clean (a moov nested in another box that ffmpeg reads first, a compressed moov, a Dolby Vision
 * entry, a glbl box), and the x265 signature reached the output that way (review, session 5). The
 * moov ffmpeg writes is its own plain one.
 *
 * A pipe cannot be seeked, so the output is a fragmented MP4/MOV: the moov box first, then the samples
 * in fragments, with the original's timing. Every player and browser we know opens it; fragments are
 * cut at keyframes or at FRAGMENT_BYTES, whichever comes first, which bounds ffmpeg's own buffer on a
 * video with rare keyframes. Threat and defence are video.ts's.
 */
import { CleaningFailed } from '../errors.ts';
import { streamTool } from './subprocess.ts';
import type { CleanedStream, Sniffed } from './types.ts';
import { planRemux, type RemuxPlan } from './video-plan.ts';
import { SpliceFailed, spliceCleanMoov } from './video-moov-splice.ts';

/** Sniffed types this cleaner streams; 3GP, WebM, MKV and AVI go through scratch (video.ts). */
export const STREAMED = new Set(['mp4', 'm4v', 'mov']);

const FRAGMENT_BYTES = 16 * 1024 * 1024;

// delay_moov, not empty_moov: the moov is written once the first fragment is known, with the edit
// lists that keep sound and picture in sync (B-frame delay, AAC priming); empty_moov has none, and
// shifts each track to start at zero on its own (112 ms of lip-sync lost on a plain phone clip).
// default_base_moof and skip_trailer: nothing points at an absolute offset, so the moov may shrink.
const FRAGMENTED = [
  '-movflags', 'frag_keyframe+delay_moov+default_base_moof+skip_trailer',
  '-frag_size', String(FRAGMENT_BYTES),
];

/**
 * How far ffmpeg may write ahead of the seal reading its pipe. ffmpeg writes a fragment at once (up
 * to FRAGMENT_BYTES), then reads the next from the input while gpg drains the pipe; with the default
 * ~200 KiB, gpg then waits, and ffmpeg and gpg take turns instead of running side by side. With 4 MiB
 * (the kernel doubles it), ffmpeg and gpg alone on 1 GiB took 2.9–3.1 s instead of 3.3–3.7 s, gpg
 * alone 2.7 s (BENCHMARKS.md, round 11); the service's own remux-and-seal of 1 GiB into the vault,
 * 3.45–3.57 s instead of 3.83–4.04 s (round 12). The kernel caps the request at net.core.wmem_max
 * (README). Kernel memory, about 8 MiB, one per running remux.
 */
const SEND_BUFFER = 4 * 1024 * 1024;

/** ffmpeg's own count of the bytes it wrote, from the last block of `-progress`. */
function totalSize(progress: string): number | undefined {
  const all = [...progress.matchAll(/^total_size=(\d+)$/gm)];
  return /^progress=end$/m.test(progress) && all.length > 0 ? Number(all[all.length - 1]![1]) : undefined;
}

export async function cleanVideoStream(input: string, sniffed: Sniffed): Promise<CleanedStream> {
  if (!STREAMED.has(sniffed.ext)) throw new CleaningFailed({ type: sniffed.ext }, 'not a streamed video type');
  return remuxStream(await planRemux(input, sniffed), sniffed.ext);
}

/** ffmpeg running `plan` into a pipe (video-early.ts runs one on an upload still arriving). */
export function remuxStream(plan: RemuxPlan, type: string): CleanedStream {
  const { muxer, removed } = plan;
  const failed = (reason: string) => new CleaningFailed({ type }, reason);
  // ffmpeg copies an hvcC as it finds it: with HEVC, its output moov is cleaned as it passes.
  const rewriteMoov = plan.hevc;
  const maxBytes = plan.limits.fileBytes ?? Number.MAX_SAFE_INTEGER;
  const tool = streamTool('ffmpeg', [
    ...plan.args, '-progress', 'pipe:3', '-stats_period', '5', ...FRAGMENTED,
    // RLIMIT_FSIZE does not cover a pipe: ffmpeg stops itself here, and we refuse what reached it.
    '-fs', String(maxBytes), '-f', muxer.format, 'pipe:1',
  ], plan.limits, { sendBuffer: SEND_BUFFER });
  const sei = { removed: 0, shrunk: 0 };
  const spliced = rewriteMoov ? spliceCleanMoov(tool.stdout, sei) : undefined;
  const cleaned: CleanedStream = {
    stream: spliced?.stream ?? tool.stdout,
    done: Promise.resolve(),
    kind: 'video',
    ext: muxer.ext,
    report: { removed, warnings: plan.warnings },
    bytes: 0,
    abort() {
      tool.kill();
      spliced?.kill();
      cleaned.stream.destroy();
    },
  };
  // A refused or failed splice stops ffmpeg, which would otherwise wait on a pipe nobody reads.
  const joined = spliced?.done.then(() => undefined, (e: unknown) => { tool.kill(); return e; });
  cleaned.done = Promise.all([tool.exited, joined]).then(([r, joinError]) => {
    if (r.code !== 0) throw failed('ffmpeg could not remux the video');
    if (joinError instanceof SpliceFailed && joinError.layout) throw failed('the remuxed video had an unexpected layout');
    if (joinError !== undefined) throw failed('the remuxed video could not be passed on');
    const written = totalSize(r.progress);
    if (written === undefined || written === 0) throw failed('ffmpeg wrote nothing');
    if (written >= maxBytes) throw failed('the remuxed video is larger than allowed');
    cleaned.bytes = written - sei.shrunk;
    if (sei.removed > 0) removed.sei = (removed.sei ?? 0) + sei.removed;
  });
  // Settled by the caller; this only keeps an early failure from being an unhandled rejection.
  cleaned.done.catch(() => {});
  return cleaned;
}
