/**
 * Whether an audio stream's codec configuration (ffmpeg's extradata) may be copied as it is, and
 * what the stream is re-encoded to when it may not.
 *
 * Threat: a `-c copy` remux writes the configuration record it read into the output unchanged: an
 * MP4's esds (AAC), an Opus head, an ALAC box, a WAV's format extension. Decoders read only the
 * fields they know and ignore what follows, so a crafted or careless file can carry a serial, a
 * place or an account there, straight to editors (review, session 5). An AAC program config
 * element has a comment field of its own.
 * Defence: a record is plain only if a strict reader of its format (AAC, FLAC, Opus, ALAC) finds
 * nothing but the fields a decoder needs, ending where the record ends, or if there is none, or if
 * the output's RIFF header is rebuilt from the stream's parameters rather than copied. Any other
 * record, of a codec we cannot read (Vorbis's setup header is a program of codebooks), is not
 * plain, and the stream is re-encoded: lossless codecs to themselves, lossy ones to what the
 * container usually holds, with a warning in the report. The encoders write records of their own.
 * Limits: the fields a decoder does read (an Opus head's gain and pre-skip, a sample rate) are kept
 * as they are; bytes inside the audio frames themselves (AAC fill and data stream elements, MP3
 * ancillary bits) are copied as they are.
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

/** FLAC: the 34-byte STREAMINFO block alone (no tags, no picture, no padding). */
export function plainFlac(rec: Buffer): boolean {
  return rec.length === 34;
}

/**
 * An OpusHead (RFC 7845 5.1) of exactly its declared size: mono or stereo with no table, or up
 * to 8 channels with a Vorbis-order mapping table whose every entry names a decoded stream.
 */
export function plainOpusHead(rec: Buffer): boolean {
  if (rec.length < 19 || rec.toString('latin1', 0, 8) !== 'OpusHead' || rec[8] !== 1) return false;
  const channels = rec[9]!;
  const family = rec[18]!;
  if (family === 0) return rec.length === 19 && (channels === 1 || channels === 2);
  if (family !== 1 || channels < 1 || channels > 8 || rec.length !== 21 + channels) return false;
  const streams = rec[19]!;
  const coupled = rec[20]!;
  if (streams === 0 || coupled > streams) return false;
  return [...rec.subarray(21)].every((m) => m < streams + coupled || m === 255);
}

/** ALAC: ffmpeg's form, the 'alac' box (12 bytes of header) around the 24-byte ALACSpecificConfig. */
export function plainAlac(rec: Buffer): boolean {
  return rec.length === 36 && rec.readUInt32BE(0) === 36 && rec.toString('latin1', 4, 8) === 'alac' && rec.readUInt32BE(8) === 0;
}

const READERS: Record<string, (rec: Buffer) => boolean> = {
  aac: plainAsc, flac: plainFlac, opus: plainOpusHead, alac: plainAlac,
};

/** Codecs whose RIFF header (WAV, AVI) ffmpeg writes from the stream's parameters, not from extradata. */
const RIFF_REBUILT = new Set(['mp2', 'mp3', 'adpcm_ima_wav', 'gsm_ms', 'g723_1']);
const RIFF = new Set(['wav', 'avi']);

/**
 * Whether `codec`'s configuration record (undefined: not known) may be copied into `format` (an
 * ffmpeg muxer name).
 */
export function plainAudioConfig(codec: string, rec: Buffer | undefined, format: string): boolean {
  if (rec === undefined) return false;
  if (rec.length === 0) return true;
  if (RIFF.has(format) && RIFF_REBUILT.has(codec)) return true;
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
 * The ffmpeg arguments that re-encode output stream `out` (of `codec`) for `format`, and the
 * report's warning; undefined when the format has no encoder here (AMR).
 */
export function reencodeAudio(codec: string, format: string, out: number): { args: string[]; warning: string } | undefined {
  const warning = `${codec} audio re-encoded: its codec header held more than we could vouch for`;
  // PCM keeps its sample format, and Vorbis stays Vorbis, as before (video-plan.ts, Matroska).
  if (codec.startsWith('pcm_')) return { args: [`-c:${out}`, codec], warning };
  if (codec === 'vorbis' && ['ogg', 'matroska', 'webm'].includes(format)) {
    return { args: [`-c:${out}`, 'libvorbis', `-q:${out}`, '6'], warning };
  }
  if (LOSSLESS_IN[codec]?.includes(format)) return { args: [`-c:${out}`, codec], warning };
  const t = LOSSY_TARGET[format];
  if (!t) return undefined;
  return { args: [`-c:${out}`, t[0]!, ...(t[1] ? [`-b:${out}`, t[1]] : [])], warning };
}
