/**
 * The hvcC SEI defence of video-hvcc.ts, for a fragmented MP4/MOV as ffmpeg writes it to a pipe.
 *
 * Threat: as in video-hvcc.ts, the x265 build and options (or a phone encoder's own data) ride in the
 * HEVC decoder configuration inside moov, which filter_units does not clean.
 * Defence: with `delay_moov` the moov box comes first, before any sample, and is small; we hold the
 * stream until it has passed whole, rebuild it without the SEI arrays, and pass the rest on as is.
 * Shrinking moov moves later boxes, which is safe only because nothing points at a file offset:
 * fragments are written with `default_base_moof` (offsets relative to their own moof) and without
 * the mfra trailer (`skip_trailer`). Any other layout is refused rather than guessed at.
 */
import { HvccLayoutError, rebuildMoov } from './video-hvcc.ts';

/** A first moov this big is not what ffmpeg's delay_moov writes; refuse rather than hold it in RAM. */
const MAX_MOOV = 16 * 1024 * 1024;
/** Boxes ffmpeg may write before moov, and how many: it writes ftyp, then at most a free or wide. */
const BEFORE_MOOV = new Set(['ftyp', 'free', 'wide']);
const MAX_BEFORE_MOOV = 8;

export interface MoovCounter {
  /** SEI units taken out of the hvcC. */
  removed: number;
  /** Bytes the moov lost. */
  shrunk: number;
}

/**
 * The start of ffmpeg's output, `head`, once it holds the whole moov: `out` is what to pass on in its
 * place (the boxes before moov, then the rebuilt moov) and `rest` the bytes after the moov that came
 * with it. While more is needed, `need`: the length `head` must reach before it is worth calling again
 * (so a 16 MiB moov read 64 KiB at a time is joined once, not 256 times). Throws on any other layout.
 */
export function takeCleanHead(head: Buffer, counter: MoovCounter): { out: Buffer[]; rest: Buffer } | { need: number } {
  let at = 0; // start of the next top-level box
  let boxes = 0;
  while (head.length >= at + 8) {
    const size = head.readUInt32BE(at);
    const type = head.toString('latin1', at + 4, at + 8);
    if (size < 8) throw new HvccLayoutError('unexpected top-level box size');
    if (type === 'moov') {
      if (size > MAX_MOOV) throw new HvccLayoutError('moov too large');
      if (head.length < at + size) return { need: at + size };
      const moov = rebuildMoov(Buffer.from(head.subarray(at, at + size)), counter);
      counter.shrunk += size - moov.length;
      return { out: [head.subarray(0, at), moov], rest: head.subarray(at + size) };
    }
    if (!BEFORE_MOOV.has(type) || size > 4096) throw new HvccLayoutError(`${type} before moov`);
    if (++boxes > MAX_BEFORE_MOOV) throw new HvccLayoutError('no moov at the start');
    if (head.length < at + size) return { need: at + size };
    at += size;
  }
  return { need: at + 8 };
}

/** Chunks gathered until `takeCleanHead` can decide, joined only when they reach what it needs. */
export class HeadGatherer {
  private parts: Buffer[] = [];
  private length = 0;
  private need = 8;

  constructor(private readonly counter: MoovCounter) {}

  /** The cleaned head and what came after it, once the moov is whole; throws on a refused layout. */
  add(chunk: Buffer): { out: Buffer[]; rest: Buffer } | undefined {
    this.parts.push(chunk);
    this.length += chunk.length;
    if (this.length < this.need) return undefined;
    const head = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.length);
    this.parts = [head];
    const taken = takeCleanHead(head, this.counter);
    if ('need' in taken) {
      this.need = taken.need;
      return undefined;
    }
    this.clear();
    return taken;
  }

  /** Lets go of what was gathered (a refusal need not keep up to 16 MiB alive). */
  clear(): void {
    this.parts = [];
    this.length = 0;
  }
}
