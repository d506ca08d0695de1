/**
 * MP4, M4V and MOV cleaned as a stream: ffmpeg remuxes (video-plan.ts chooses what it keeps) into a
 * pipe that the seal reads, so remuxing and sealing run at once on two cores, the cleaned video is
 * never written to scratch, and a slow vault slows ffmpeg down (the pipe fills) instead of filling RAM.
 *
 * A pipe cannot be seeked, so the output is a fragmented MP4/MOV: the moov box first, then the samples
 * in fragments, with the original's timing. Every player and browser we know opens it; fragments are cut at keyframes or at
 * FRAGMENT_BYTES, whichever comes first, which bounds ffmpeg's own buffer on a video with rare keyframes.
 * Threat and defence are video.ts's; the hvcC SEI is taken out of the leading moov on the way
 * (video-moov-stream.ts), which is why fragments must not point at absolute file offsets.
 */
import { Readable } from 'node:stream';
import { CleaningFailed } from '../errors.ts';
import { streamTool } from './subprocess.ts';
import type { CleanedStream, StreamCleaner } from './types.ts';
import { planRemux } from './video-plan.ts';
import { withCleanMoov } from './video-moov-stream.ts';

/** Sniffed types this cleaner streams; 3GP, WebM, MKV and AVI go through scratch (video.ts). */
export const STREAMED = new Set(['mp4', 'm4v', 'mov']);

const FRAGMENT_BYTES = 16 * 1024 * 1024;

// delay_moov, not empty_moov: the moov is written once the first fragment is known, with the edit
// lists that keep sound and picture in sync (B-frame delay, AAC priming); empty_moov has none, and
// shifts each track to start at zero on its own (112 ms of lip-sync lost on a plain phone clip).
const FRAGMENTED = [
  '-movflags', 'frag_keyframe+delay_moov+default_base_moof+skip_trailer',
  '-frag_size', String(FRAGMENT_BYTES),
];

export const cleanVideoStream: StreamCleaner = async (input, sniffed) => {
  if (!STREAMED.has(sniffed.ext)) throw new CleaningFailed({ type: sniffed.ext }, 'not a streamed video type');
  const plan = await planRemux(input, sniffed);
  const { muxer, removed } = plan;
  const failed = (reason: string) => new CleaningFailed({ type: sniffed.ext }, reason);
  const raw = streamTool('ffmpeg', [...plan.args, ...FRAGMENTED, '-f', muxer.format, 'pipe:1'], plan.limits,
    () => failed('ffmpeg could not remux the video'));
  const sei = { removed: 0 };
  const cleaned: CleanedStream = {
    stream: raw,
    kind: 'video',
    ext: muxer.ext,
    report: { removed, warnings: plan.warnings },
    bytes: 0,
  };
  async function* counted(): AsyncGenerator<Buffer> {
    try {
      const source = plan.hevc ? withCleanMoov(raw, sei) : (raw as AsyncIterable<Buffer>);
      for await (const chunk of source) {
        cleaned.bytes += chunk.length;
        yield chunk;
      }
      if (cleaned.bytes === 0) throw failed('ffmpeg wrote nothing');
      if (sei.removed > 0) removed.sei = (removed.sei ?? 0) + sei.removed;
    } catch (e) {
      // The tipster learns only that this file could not be cleaned; the reason stays here.
      cleaned.failure = e instanceof CleaningFailed ? e : failed('the remuxed video had an unexpected layout');
      throw cleaned.failure;
    } finally {
      raw.destroy();
    }
  }
  cleaned.stream = Readable.from(counted(), { objectMode: false });
  return cleaned;
};
