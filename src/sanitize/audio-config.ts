/**
 * Whether an audio stream's codec configuration (ffmpeg's extradata) may be copied as it is, and
 * what the stream is re-encoded to when it may not.
 *
 * Threat: a `-c copy` remux writes the configuration record it read into the output unchanged: an
 * MP4's esds (AAC), an Opus head, an ALAC box, a WAV's format extension. Decoders read only the
 * fields they know and ignore what follows, so a crafted or careless file can carry a serial, a
 * place or an account there, straight to editors (review, session 5). An AAC program config
 * element has a comment field of its own.
 * Defence: a record is plain only if a strict reader of its format (AAC, Opus) finds nothing but
 * the fields a decoder needs, ending where the record ends; or if the codec has none (MP3, PCM...).
 * A codec that needs a record and came without one is not plain: a muxer then takes the record
 * from elsewhere, a second sample entry or a bitstream filter's output, which we never saw (review,
 * session 6). FLAC and ALAC are always re-encoded, losslessly: their records hold fields no decoder
 * checks (FLAC's MD5, ALAC's bit rates), room for a serial. Vorbis's setup header is a program of
 * codebooks we cannot read. Any stream whose record is not plain is re-encoded: lossless codecs to
 * themselves, lossy ones to what the container usually holds, with a warning in the report. The
 * encoders write records of their own. Where the output goes to scratch, the record it holds is
 * checked too (audio-output-check.ts).
 * Limits: an Opus head's pre-skip (two bytes a decoder does read) is kept as it is; bytes inside
 * the audio frames themselves (AAC fill and data stream elements, a program config element's
 * comment inside ADTS frames, MP3 ancillary bits) are copied as they are.
 */

/** A big-endian bit reader over a record; reading past the end gives undefined. */
class Bits {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  get left(): number {
    return this.buf.length * 8 - this.at;
  }
  read(n: number): number | undefined {
    if (n > this.left) return undefined;
    let v = 0;
    for (let i = 0; i < n; i++, this.at++) v = v * 2 + ((this.buf[this.at >> 3]! >> (7 - (this.at & 7))) & 1);
    return v;
  }
  /** Only zero bits up to the next byte boundary, and nothing after. */
  endsHere(): boolean {
    return this.left < 8 && this.read(this.left) === 0;
  }
}

/** AAC Main, LC, SSR, LTP: the General Audio types phones and encoders write. */
const GENERAL_AUDIO = new Set([1, 2, 3, 4]);
const SBR = 5;
const PS = 29;

/** A sampling frequency index that names a rate (0..12); the 24-bit explicit form is refused. */
const rateIndex = (b: Bits): boolean => {
  const i = b.read(4);
  return i !== undefined && i <= 12;
};

/**
 * An AudioSpecificConfig (ISO 14496-3 1.6.2.1) for a General Audio type, with SBR/PS signalled
 * explicitly (hierarchical: object type 5 or 29 first) or backward-compatibly (the 0x2B7 sync
 * extension after it, as ffmpeg's and Apple's encoders write), and no program config element.
 */
export function plainAsc(rec: Buffer): boolean {
  const b = new Bits(rec);
  let aot = b.read(5);
  if (!rateIndex(b)) return false;
  const channels = b.read(4);
  // 0 means a program config element follows, with a free-text comment; 8..15 are reserved.
  if (channels === undefined || channels < 1 || channels > 7) return false;
  const explicit = aot === SBR || aot === PS;
  if (explicit) {
    if (!rateIndex(b)) return false;
    aot = b.read(5);
  }
  if (aot === undefined || !GENERAL_AUDIO.has(aot)) return false;
  // GASpecificConfig: frameLengthFlag, then no core coder and no extension (both carry more bits).
  if (b.read(1) === undefined || b.read(1) !== 0 || b.read(1) !== 0) return false;
  if (explicit || b.left < 16) return b.endsHere();
  if (b.read(11) !== 0x2b7 || b.read(5) !== SBR) return false;
  const sbr = b.read(1);
  if (sbr === 1) {
    if (!rateIndex(b)) return false;
    if (b.left >= 12 && (b.read(11) !== 0x548 || b.read(1) === undefined)) return false;
  }
  return sbr !== undefined && b.endsHere();
}

/** Input sample rates an encoder records; the field is informational, so anything else is a message. */
const OPUS_INPUT_RATES = new Set([0, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000, 176400, 192000]);

/**
 * An OpusHead (RFC 7845 5.1) of exactly its declared size, with no output gain and a usual input
 * rate: mono or stereo with no table, or up to 8 channels with a Vorbis-order mapping table whose
 * every entry names a decoded stream.
 */
export function plainOpusHead(rec: Buffer): boolean {
  if (rec.length < 19 || rec.toString('latin1', 0, 8) !== 'OpusHead' || rec[8] !== 1) return false;
  if (!OPUS_INPUT_RATES.has(rec.readUInt32LE(12)) || rec.readInt16LE(16) !== 0) return false;
  const channels = rec[9]!;
  const family = rec[18]!;
  if (family === 0) return rec.length === 19 && (channels === 1 || channels === 2);
  if (family !== 1 || channels < 1 || channels > 8 || rec.length !== 21 + channels) return false;
  const streams = rec[19]!;
  const coupled = rec[20]!;
  if (streams === 0 || coupled > streams) return false;
  return [...rec.subarray(21)].every((m) => m < streams + coupled || m === 255);
}

const READERS: Record<string, (rec: Buffer) => boolean> = { aac: plainAsc, opus: plainOpusHead };
/** Always re-encoded (losslessly): fields a decoder never checks. */
const NEVER_PLAIN = new Set(['flac', 'alac', 'vorbis']);

/** Codecs whose RIFF header (WAV, AVI) ffmpeg writes from the stream's parameters, not from extradata. */
const RIFF_REBUILT = new Set(['mp2', 'mp3', 'adpcm_ima_wav', 'gsm_ms', 'g723_1']);
const RIFF = new Set(['wav', 'avi']);

/** The muxer writes this codec's record from the stream's parameters: the input's is not copied. */
export function rebuiltByMuxer(codec: string, format: string): boolean {
  return RIFF.has(format) && RIFF_REBUILT.has(codec);
}

/**
 * Whether `codec`'s configuration record (undefined: not known) may be copied into `format` (an
 * ffmpeg muxer name).
 */
export function plainAudioConfig(codec: string, rec: Buffer | undefined, format: string): boolean {
  if (rec === undefined || NEVER_PLAIN.has(codec)) return false;
  // ADTS output carries its configuration in each frame's header, not in a record.
  if (rec.length === 0) return READERS[codec] === undefined || (codec === 'aac' && format === 'adts');
  if (rebuiltByMuxer(codec, format)) return true;
  return READERS[codec]?.(rec) ?? false;
}

const LOSSY_TARGET: Record<string, string[]> = {
  mp4: ['aac', '192k'], mov: ['aac', '192k'], ipod: ['aac', '192k'], '3gp': ['aac', '192k'], adts: ['aac', '192k'],
  matroska: ['libopus', '128k'], webm: ['libopus', '128k'], ogg: ['libopus', '128k'],
  mp3: ['libmp3lame', '192k'], wav: ['pcm_s16le'], avi: ['pcm_s16le'], flac: ['flac'],
};
/** Lossless codecs re-encoded to themselves where the muxer takes them (MP4 takes FLAC only as experimental). */
const LOSSLESS_IN: Record<string, string[]> = {
  flac: ['flac', 'ogg', 'matroska'], alac: ['ipod', 'mov', 'mp4', 'matroska'],
};

/**
 * The target's bit rate, at most its usual one and no more than the input's (at least 64k): a long
 * voice note at 32 kbps re-encoded at 192 would outgrow the output cap (twice the input) and be refused.
 */
function bitRate(usual: string, input: string | undefined): string {
  const k = Math.ceil(Number(input) / 1000);
  return Number.isFinite(k) && k > 0 ? `${Math.min(parseInt(usual, 10), Math.max(64, k))}k` : usual;
}

/**
 * The ffmpeg arguments that re-encode output stream `out` (of `codec`, at `inputBitRate` bits per
 * second when known) for `format`, and the report's warning; undefined when the format has no
 * encoder here (AMR).
 */
export function reencodeAudio(codec: string, format: string, out: number, inputBitRate?: string): { args: string[]; warning: string } | undefined {
  const lossless = codec.startsWith('pcm_') || LOSSLESS_IN[codec]?.includes(format);
  const warning = lossless
    ? `${codec} audio re-encoded losslessly: its codec header has fields we cannot vouch for`
    : `${codec} audio re-encoded: its codec header held more than we could vouch for`;
  // PCM keeps its sample format, and Vorbis stays Vorbis, as before (video-plan.ts, Matroska).
  if (codec.startsWith('pcm_')) return { args: [`-c:${out}`, codec], warning };
  if (codec === 'vorbis' && ['ogg', 'matroska', 'webm'].includes(format)) {
    return { args: [`-c:${out}`, 'libvorbis', `-q:${out}`, '6'], warning };
  }
  if (LOSSLESS_IN[codec]?.includes(format)) return { args: [`-c:${out}`, codec], warning };
  const t = LOSSY_TARGET[format];
  if (!t) return undefined;
  return { args: [`-c:${out}`, t[0]!, ...(t[1] ? [`-b:${out}`, bitRate(t[1], inputBitRate)] : [])], warning };
}
