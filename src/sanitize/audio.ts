/**
 * Voice notes and recordings: OGG/Opus, M4A/AAC, MP3, WAV, AMR, FLAC.
 *
 * Threat: ID3 frames, Vorbis comments, iTunes atoms and RIFF INFO/bext chunks name the recorder,
 * the owner and the time; iPhone voice memos carry the place they were recorded; a cover picture is
 * a JPEG with its own EXIF. Defence: ffmpeg (a child, under prlimit) copies only the audio streams,
 * bit for bit, into a fresh file of the same format, writing no tags, no ID3 (v1 or v2), no BWF
 * chunk, no chapters and no encoder name. The Ogg and FLAC muxers write a new comment header from
 * the (now empty) tag list, so the original Vorbis comments do not travel with the copied stream.
 * A stream's codec configuration record would be copied as it is too, and can hide bytes after the
 * fields a decoder reads: unless it is plain (audio-config.ts), and found unchanged in the output
 * (audio-output-check.ts), the stream is re-encoded, with a warning. Ordinary phone notes (AAC,
 * Opus, MP3, AMR, PCM WAV) are plain and copied; Vorbis never is, and FLAC and ALAC are
 * re-encoded losslessly.
 * Limit: what is audible (a voice, a background) stays; that is the tip.
 */
import { rmSync, statSync } from 'node:fs';
import { CleaningFailed } from '../errors.ts';
import { runTool } from './subprocess.ts';
import type { Cleaner } from './types.ts';
import { QUIET, copyArgs, countRemoved, limitsFor, probe } from './video-probe.ts';
import { configRecords } from './video-sei-scrub.ts';
import { plainAudioConfig, rebuiltByMuxer, reencodeAudio } from './audio-config.ts';
import { copiedRecordsKept } from './audio-output-check.ts';

/** Output muxer, extension and muxer options per sniffed type: the format is kept. */
const MUXER: Record<string, { format: string; ext: string; options: string[] }> = {
  ogg: { format: 'ogg', ext: 'ogg', options: [] },
  oga: { format: 'ogg', ext: 'oga', options: [] },
  opus: { format: 'ogg', ext: 'opus', options: [] },
  m4a: { format: 'ipod', ext: 'm4a', options: ['-empty_hdlr_name', '1'] },
  mp3: { format: 'mp3', ext: 'mp3', options: ['-id3v2_version', '0', '-write_id3v1', '0'] },
  wav: { format: 'wav', ext: 'wav', options: ['-write_bext', '0'] },
  amr: { format: 'amr', ext: 'amr', options: [] },
  flac: { format: 'flac', ext: 'flac', options: [] },
  aac: { format: 'adts', ext: 'aac', options: ['-write_id3v2', '0', '-write_apetag', '0'] },
};

export const cleanAudio: Cleaner = async (input, sniffed, scratch) => {
  const muxer = MUXER[sniffed.ext];
  if (!muxer) throw new CleaningFailed({ type: sniffed.ext }, 'not an audio type');
  const [p, records] = await Promise.all([
    probe(input, sniffed.ext),
    configRecords(input, sniffed.ext, { ...limitsFor(input, false), fileBytes: 0 }),
  ]);
  const kept = p.streams.filter((s) => s.codec_type === 'audio' && s.codec_name !== undefined && s.codec_name !== 'none');
  if (kept.length === 0) throw new CleaningFailed({ type: sniffed.ext }, 'no audio stream');

  // Each track copied with its record if that record is plain, else re-encoded; and all of them
  // re-encoded if a copied record did not reach the output as approved (audio-output-check.ts).
  const attempt = async (reencodeAll: boolean) => {
    const perStream: string[] = [];
    const warnings: string[] = [];
    const copied: Array<{ out: number; bytes: Buffer }> = [];
    kept.forEach((s, out) => {
      const codec = s.codec_name ?? '';
      const record = records?.byIndex.get(s.index)?.bytes;
      if (!reencodeAll && plainAudioConfig(codec, record, muxer.format)) {
        if (!rebuiltByMuxer(codec, muxer.format)) copied.push({ out, bytes: record! });
        return;
      }
      const r = reencodeAudio(codec, muxer.format, out, s.bit_rate);
      if (!r) throw new CleaningFailed({ type: sniffed.ext }, 'the audio codec header could not be checked or rebuilt');
      perStream.push(...r.args);
      warnings.push(r.warning);
    });
    const out = scratch.path('.' + muxer.ext);
    const args = [...QUIET, ...copyArgs(sniffed.ext, input, kept.map((s) => s.index), perStream), ...muxer.options, '-f', muxer.format, out];
    const r = await runTool('ffmpeg', args, limitsFor(input, perStream.length > 0));
    let size = 0;
    try {
      size = statSync(out).size;
    } catch {
      size = 0;
    }
    if (r.code !== 0 || size === 0) {
      rmSync(out, { force: true });
      throw new CleaningFailed({ type: sniffed.ext }, 'ffmpeg could not remux the audio');
    }
    return { out, copied, warnings };
  };
  let done = await attempt(false).catch(() => undefined);
  if (done === undefined || !(await copiedRecordsKept(done.out, sniffed.ext, done.copied).catch(() => false))) {
    // A record other than the approved one, or a muxer that failed on one handed to it in the
    // packets (audio-output-check.ts): every track re-encoded.
    if (done) rmSync(done.out, { force: true });
    done = await attempt(true);
  }
  const { out, warnings } = done;
  const removed = countRemoved(p, new Set(kept.map((s) => s.index)));
  return { path: out, kind: 'audio', ext: muxer.ext, report: { removed, warnings: [...new Set(warnings)] } };
};
