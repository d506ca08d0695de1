/**
 * An MP4/MOV whose moov comes first (phones' "fast start" and shared videos), remuxed while it is
 * still being uploaded. This sits between the upload and its scratch file: once the moov is in,
 * video-early-plan.ts reads where each frame lies, and as each frame arrives whole, its SEI units
 * are blanked before it is written to scratch. ffmpeg, started as soon as the moov is in, reads the scratch file itself, as the
 * ordinary path does, waiting at its end for more (`-follow`, up to the mdat's end): its output is
 * sealed at once, and the tipster's wait after the last byte is the tail of the seal and the check
 * below, not a whole remux and seal (BENCHMARKS.md, round 9).
 *
 * Threat: this reads a hostile file in a second way, ours, before ffmpeg's own reading of the whole
 * file is known. If the two differed, an SEI we did not see could reach the output.
 * Defence: nothing made here is trusted by itself. Once the upload is whole, video-early-check.ts
 * makes the ordinary plan from the scratch file ffmpeg read, and keeps the output only if that
 * plan finds no SEI left to blank, every unit we blanked is a unit in ffprobe's own reading, the
 * arguments are the ordinary ones, and the file is one moov before one final mdat. Any difference,
 * any doubt here (a moov after the data, a table we cannot read, a second moov, a frame held back
 * past its hold limit), and the output is dropped, the bytes we overwrote are put back (restore()), and
 * the file is cleaned from scratch as before. ffmpeg never reads a byte before we have blanked it:
 * bytes reach scratch only through here, and a frame only once it is walked.
 * Limits: ffmpeg reads the upload while it arrives, so a crafted file reaches ffmpeg (under the
 * same prlimit) before the checks, as it reaches ffprobe in the ordinary path. The plaintext is
 * only in scratch, as before. At most one such remux per core runs during uploads.
 */
import { availableParallelism } from 'node:os';
import { open, stat } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByteWindow } from './byte-window.ts';
import type { CleanedStream, Sniffed } from './types.ts';
import { planEarly } from './video-early-plan.ts';
import type { RemuxPlan } from './video-plan.ts';
import { FILL_CODECS, paintFiller, walkSample } from './video-sei-scrub.ts';
import { remuxStream } from './video-stream.ts';

const MIB = 1024 * 1024;
/** As video-hvcc.ts: real moovs are a few MiB at most. */
const MAX_MOOV = 16 * MIB;
/**
 * The memory one upload may pin while it is remuxed early. Only tests pass others (the constructor's
 * `limits`): a file with a frame, or SEI, past 16 MiB is slow and heavy to build on every run, and
 * giving up at these limits must still put every byte down in order.
 */
export interface EarlyLimits {
  /** The most we hold back while a frame arrives whole (a 4K HEVC keyframe is a few MiB); per upload, in the intake's memory. */
  maxHold: number;
  /** The most bytes we keep to put back if our blanking is not kept (SEI units are small). */
  maxUndo: number;
}
const LIMITS: EarlyLimits = { maxHold: 16 * MIB, maxUndo: 16 * MIB };
/** Boxes a phone writes before its media data; anything else there and we do not stream. */
const BEFORE_MDAT = new Set(['ftyp', 'free', 'skip', 'wide']);

/** At most this many remuxes run during uploads: each is an ffmpeg and a seal. */
const MAX_RUNNING = Math.max(1, availableParallelism());
let running = 0;
/** Every remux running, so a process that must exit now can stop their ffmpegs first. */
const live = new Set<EarlyRemux>();

/** Stops every early remux at once (the intake is exiting without its usual cleanup). */
export function abortAllEarly(): void {
  for (const e of live) e.abort();
}

/** Where the early reading found the moov and the media data, for video-early-check.ts. */
export interface EarlyLayout {
  moovAt: number;
  mdatAt: number;
  /** Where the mdat's payload starts. */
  dataAt: number;
  /** Where the mdat, and so the file, ends. */
  end: number;
}

export interface EarlyResult {
  /** ffmpeg's output, being sealed; only `done` says it is whole. */
  cleaned: CleanedStream;
  sniffed: Sniffed;
  /** The plan ffmpeg runs (its input: the scratch file, followed as it grows). */
  plan: RemuxPlan;
  /** Units blanked, as (offset, length, codec) triples: video-sei-scrub.ts's format. */
  fills: number[];
  layout: EarlyLayout;
}

export interface EarlySink {
  /** Awaited before ffmpeg starts (a vault draft), so the seal can take ffmpeg's pipe at once. */
  prepare(): Promise<void>;
  /** Called, without an await in between, once ffmpeg runs. */
  start(cleaned: CleanedStream): void;
}

type Phase = 'head' | 'planning' | 'streaming' | 'done' | 'off';

export class EarlyRemux {
  private phase: Phase = 'head';
  private readonly win = new ByteWindow();
  private moov: { at: number; header: number; end: number } | undefined;
  private mdat: { at: number; dataAt: number; end: number } | undefined;
  private nextBox = 0;
  /** Frames to walk, flat (pos, size, NAL length size, codec index) quadruples, in file order. */
  private samples: Float64Array = new Float64Array(0);
  private sample = 0;
  private readonly fills: number[] = [];
  private painted = 0;
  /** The bytes each blanked unit held, to put back if our work is not kept. */
  private readonly undo: Array<{ at: number; bytes: Buffer }> = [];
  private undoBytes = 0;
  private planning: Promise<void> | undefined;
  private cleaned: CleanedStream | undefined;
  private chosen: { sniffed: Sniffed; plan: RemuxPlan } | undefined;
  private counted = false;
  private settle!: (r: EarlyResult | undefined) => void;
  /** The remux once the whole upload is in scratch, or undefined when it gave up. */
  readonly result: Promise<EarlyResult | undefined>;
  /** Goes between the upload and its scratch file. */
  readonly stream: Transform;

  /** `path`: the scratch file the upload is written to; `maxBytes`: the most it may hold (as declared). */
  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly sink: EarlySink,
    private readonly limits: EarlyLimits = LIMITS,
  ) {
    this.result = new Promise((resolve) => { this.settle = resolve; });
    this.stream = new Transform({
      transform: (chunk: Buffer, _enc, cb) => this.take(chunk, cb),
      flush: (cb) => this.flush(cb),
    });
  }

  /** The upload is whole in scratch: every byte was written. */
  end(): void {
    // An upload shorter than its mdat: ffmpeg would wait for the rest until its stall timeout.
    if (this.phase !== 'streaming' || this.win.end !== this.mdat!.end) return this.off();
    this.phase = 'done';
    this.settle({
      cleaned: this.cleaned!,
      sniffed: this.chosen!.sniffed,
      plan: this.chosen!.plan,
      fills: this.fills,
      layout: { moovAt: this.moov!.at, mdatAt: this.mdat!.at, dataAt: this.mdat!.dataAt, end: this.mdat!.end },
    });
  }

  /** Stops ffmpeg and passes the rest of the upload on untouched. */
  abort(): void {
    this.off();
  }

  /**
   * Puts back the bytes we blanked, once the upload is whole in scratch and ffmpeg is stopped,
   * so the ordinary cleaning starts from the file as it was sent.
   */
  async restore(): Promise<void> {
    this.off();
    if (this.undo.length === 0) return;
    const fh = await open(this.path, 'r+');
    try {
      for (const u of this.undo.splice(0)) await fh.write(u.bytes, 0, u.bytes.length, u.at);
    } finally {
      await fh.close();
    }
  }

  private off(): void {
    if (this.phase === 'off') return;
    const wasDone = this.phase === 'done';
    this.phase = 'off';
    live.delete(this);
    this.cleaned?.abort();
    if (this.counted) running--;
    this.counted = false;
    if (!wasDone) this.settle(undefined);
  }

  private take(chunk: Buffer, cb: TransformCallback): void {
    if (this.phase === 'off' || this.phase === 'done') {
      // Stopped from outside (the seal failed, ffmpeg died) while part of a frame was held: it
      // goes first, or the upload would reach scratch out of order (review, session 7).
      if (this.win.held === 0) return cb(null, chunk);
      this.win.push(chunk);
      this.release(this.win.end);
      return cb();
    }
    this.win.push(chunk);
    if (this.phase === 'head') this.readHead();
    if (this.phase === 'planning') {
      // Bytes before the media data hold no frame: they go on, for ffprobe to read the moov.
      this.release(this.mdat!.dataAt);
      void this.planning!.then(() => { this.pump(); cb(); });
      return;
    }
    this.pump();
    cb();
  }

  private flush(cb: TransformCallback): void {
    // Every byte held must reach scratch. An upload that ended before its mdat began is not ours to
    // remux; a frame the tables promise and the upload did not bring, ffmpeg would refuse too.
    if (this.phase === 'head' || (this.phase === 'streaming' && this.sample * 4 < this.samples.length)) this.off();
    this.pump();
    cb();
  }

  /** Passes on what is held, up to `upTo`, with our fillers painted into copies, never into the upload's chunks. */
  private release(upTo: number): void {
    let at = this.win.start;
    const f = this.fills;
    for (const c of this.win.take(upTo)) {
      const start = at;
      at += c.length;
      while (this.painted < f.length && f[this.painted]! + f[this.painted + 1]! <= start) this.painted += 3;
      let out = c;
      for (let j = this.painted; j < f.length && f[j]! < at; j += 3) {
        if (out === c) out = Buffer.from(c);
        paintFiller(out, start, f[j]!, f[j + 1]!, f[j + 2]!);
      }
      this.stream.push(out);
    }
  }

  /** Top-level boxes up to the mdat's header: ftyp, free space and one moov, nothing else. */
  private readHead(): void {
    const w = this.win;
    while (this.mdat === undefined) {
      const at = this.nextBox;
      if (w.end < at + 16) break;
      const h = w.read(at, 16);
      let size = h.readUInt32BE(0);
      const type = h.toString('latin1', 4, 8);
      let header = 8;
      if (size === 1) {
        size = Number(h.readBigUInt64BE(8));
        header = 16;
      }
      if (size < header || (at === 0) !== (type === 'ftyp')) return this.off();
      if (type === 'mdat') {
        // An mdat "to the end of the file" (size 0) has no end ffmpeg could stop at.
        if (this.moov === undefined) return this.off();
        this.mdat = { at, dataAt: at + header, end: at + size };
        break;
      }
      if (type === 'moov') {
        if (this.moov !== undefined || size > MAX_MOOV) return this.off();
        if (w.end < at + size) break;
        this.moov = { at, header, end: at + size };
      } else if (!BEFORE_MDAT.has(type) || size > MIB) {
        return this.off();
      }
      this.nextBox = at + size;
    }
    if (this.mdat !== undefined) {
      this.phase = 'planning';
      live.add(this);
      this.planning = this.begin().then((ok) => { if (!ok) this.off(); }, () => this.off());
    } else if (w.held > MAX_MOOV + 2 * MIB) {
      this.off();
    }
  }

  /** Plans from the moov as the ordinary path would from the whole file, then starts ffmpeg. */
  private async begin(): Promise<boolean> {
    if (running >= MAX_RUNNING) return false;
    running++;
    this.counted = true;
    const moov = this.moov!;
    const body = this.win.read(moov.at + moov.header, moov.end - moov.at - moov.header);
    if (!(await this.scratchHolds(this.mdat!.dataAt))) return false;
    const early = await planEarly(this.path, body, this.mdat!, this.maxBytes);
    if (!early || this.phase !== 'planning') return false;
    const { sniffed, plan } = early;
    this.samples = early.samples;
    await this.sink.prepare();
    if (this.phase !== 'planning') return false;
    const cleaned = remuxStream(plan, sniffed.ext);
    this.cleaned = cleaned;
    this.chosen = { sniffed, plan };
    this.sink.start(cleaned);
    // ffmpeg failed (a file it refuses): stop; the upload goes on into scratch untouched.
    cleaned.done.then(() => { if (this.counted) running--; this.counted = false; live.delete(this); }, () => this.off());
    this.phase = 'streaming';
    return true;
  }

  /** Waits (briefly) until the scratch writer has put down the bytes before `at`. */
  private async scratchHolds(at: number): Promise<boolean> {
    for (let i = 0; i < 2000 && this.phase === 'planning'; i++) {
      const size = (await stat(this.path).catch(() => undefined))?.size ?? -1;
      if (size >= at) return true;
      await sleep(5);
    }
    return false;
  }

  /** Walks every frame that has arrived whole, and passes on what lies before the next one. */
  private pump(): void {
    const w = this.win;
    const q = this.samples;
    if (this.phase === 'streaming') {
      while (this.sample * 4 < q.length && q[this.sample * 4]! + q[this.sample * 4 + 1]! <= w.end) {
        const i = this.sample * 4;
        const [pos, size] = [q[i]!, q[i + 1]!];
        const peek = (at: number, n: number) => w.read(at, n);
        // Units are kept only from a frame walked whole: a walk that fails paints nothing.
        const found: number[] = [];
        if (walkSample(peek, pos, size, q[i + 2]!, FILL_CODECS[q[i + 3]!]!, found) === undefined) return this.pumpOff();
        for (let j = 0; j < found.length; j += 3) {
          const [at, len] = [found[j]!, found[j + 1]!];
          this.undo.push({ at, bytes: Buffer.from(peek(at, len)) });
          this.undoBytes += len;
        }
        if (this.undoBytes > this.limits.maxUndo) return this.pumpOff();
        this.fills.push(...found);
        this.sample++;
      }
      const upTo = this.sample * 4 < q.length ? Math.min(w.end, q[this.sample * 4]!) : w.end;
      if (w.end - upTo > this.limits.maxHold) return this.pumpOff();
      return this.release(upTo);
    }
    if (this.phase === 'off' || this.phase === 'done') this.release(w.end);
  }

  /** Gives up mid-stream: ffmpeg is stopped first, then the rest goes on as it came. */
  private pumpOff(): void {
    this.off();
    this.release(this.win.end);
  }
}
