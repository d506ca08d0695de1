/**
 * An MP4/MOV whose moov comes first (phones' "fast start" and shared videos), remuxed while it is
 * still being uploaded: the upload goes to scratch as always, and this follows the scratch file as
 * it grows, blanks each frame's SEI units in the copy it reads, and feeds ffmpeg, whose output the
 * caller seals at once. The tipster's wait after the last byte is then the tail of the seal and
 * the check below, not a whole remux and seal (BENCHMARKS.md, round 9). The upload is never held
 * back by the remux: it goes on into scratch at its own pace.
 *
 * Threat: this path reads a hostile file in a second way, ours, before ffmpeg's own reading of the
 * whole file is known. If the two differed, an SEI we did not see could reach the output.
 * Defence: nothing made here is trusted by itself. Once the upload is whole, video-early-check.ts
 * makes the ordinary plan from scratch (ffprobe's listing, the in-place SEI scrub) and keeps the
 * streamed output only if ffmpeg was given the very bytes and arguments that plan would give it:
 * the same arguments, the same units blanked, one moov before one mdat, every packet in file order
 * (so reading from a pipe and from a file take packets in the same order). Any difference, any
 * doubt here (a moov after the data, a table we cannot read, a second moov, a frame the upload
 * did not bring), and the streamed copy is dropped and the file is cleaned from scratch as before.
 * Limits: ffmpeg reads the upload while it arrives, so a crafted file reaches ffmpeg (under the
 * same prlimit) before the checks, as it reaches ffprobe in the ordinary path. The plaintext goes
 * only to scratch and to ffmpeg's pipe. At most one remux per core runs during uploads; an upload
 * that takes longer than UPLOAD_WAIT_MS (over Tor, a few GiB) is cleaned after it, as before.
 */
import { availableParallelism } from 'node:os';
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { sampleRanges } from './iso-sample-table.ts';
import { sniff } from './index.ts';
import type { CleanedStream, Sniffed } from './types.ts';
import { decidePlan, keptStreams, scrubbableStreams, type RemuxPlan } from './video-plan.ts';
import { probe } from './video-probe.ts';
import { FILL_CODECS, configRecords, nalLengthSize, paintFiller, walkSample } from './video-sei-scrub.ts';
import { STREAMED, remuxStream } from './video-stream.ts';

const MIB = 1024 * 1024;
/** As video-hvcc.ts: real moovs are a few MiB at most. */
const MAX_MOOV = 16 * MIB;
/** Data after the moov that ffprobe reads to fill in stream details, as it would from the file. */
const PROBE_BYTES = MIB;
/** ffmpeg is fed in reads of this size from scratch, from BUFFERS buffers in turn. */
const CHUNK = MIB;
const BUFFERS = 4;
/** Less than this waits for more of the upload: one look at scratch per 64 KiB would cost a core. */
const FEED_AT_LEAST = MIB;
/** Boxes a phone writes before its media data; anything else there and we do not stream. */
const BEFORE_MDAT = new Set(['ftyp', 'free', 'skip', 'wide']);
/** An upload may take long over Tor; ffmpeg waits for it, and is killed if it takes longer. */
const UPLOAD_WAIT_MS = 30 * 60_000;

/** At most this many remuxes run during uploads: each is an ffmpeg and a seal. */
const MAX_RUNNING = Math.max(1, availableParallelism());
let running = 0;

/** Where the early reading found the moov and the media data, for video-early-check.ts. */
export interface EarlyLayout {
  moovAt: number;
  mdatAt: number;
}

export interface EarlyResult {
  /** ffmpeg's output, being sealed; only `done` says it is whole. */
  cleaned: CleanedStream;
  sniffed: Sniffed;
  /** The plan ffmpeg runs, with pipe:0 as its input. */
  plan: RemuxPlan;
  /** Units blanked, as (offset, length, codec) triples: video-sei-scrub.ts's format. */
  fills: number[];
  layout: EarlyLayout;
}

export interface EarlySink {
  /** Awaited before ffmpeg starts (a vault draft), so the seal can take ffmpeg's pipe at once. */
  prepare(): Promise<void>;
  /** Called, without an await in between, once ffmpeg runs. */
  start(cleaned: CleanedStream, sniffed: Sniffed): void;
}

type Phase = 'running' | 'done' | 'off';

export class EarlyRemux {
  private phase: Phase = 'running';
  private started = false;
  private ended = false;
  private woken: (() => void) | undefined;
  /** Counts wake-ups, so one that comes while we look at the file is not missed. */
  private pokes = 0;
  private arrived = 0;
  private wokenAt = 0;
  private moov: { at: number; header: number; end: number } | undefined;
  private mdat: { at: number; dataAt: number; end: number } | undefined;
  private readonly fills: number[] = [];
  private cleaned: (CleanedStream & { stdin?: Writable }) | undefined;
  private counted = false;
  private chosen: { sniffed: Sniffed; plan: RemuxPlan } | undefined;
  private settle!: (r: EarlyResult | undefined) => void;
  /** The streamed remux once the whole upload has gone to ffmpeg, or undefined when it gave up. */
  readonly result: Promise<EarlyResult | undefined>;

  /** `path`: the scratch file the upload is being written to. */
  constructor(private readonly path: string, private readonly maxBytes: number, private readonly sink: EarlySink) {
    this.result = new Promise((resolve) => { this.settle = resolve; });
  }

  /** `chunk` is on its way into scratch. Never holds the upload back. */
  write(chunk: Buffer): undefined {
    if (!this.started) {
      this.started = true;
      void this.run().catch(() => this.off());
    }
    // A look at scratch per MiB, not per 64 KiB read: each look costs the event loop a file stat.
    this.arrived += chunk.length;
    if (this.arrived - this.wokenAt >= MIB) {
      this.wokenAt = this.arrived;
      this.wake();
    }
    return undefined;
  }

  /** The upload is whole in scratch. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** Stops everything and drops what was made: the upload failed, or the tip is refused. */
  abort(): void {
    this.off();
  }

  private wake(): void {
    this.pokes++;
    const w = this.woken;
    this.woken = undefined;
    w?.();
  }

  private off(): void {
    if (this.phase === 'off') return;
    const wasDone = this.phase === 'done';
    this.phase = 'off';
    this.cleaned?.abort();
    this.release();
    this.wake();
    if (!wasDone) this.settle(undefined);
  }

  private release(): void {
    if (this.counted) running--;
    this.counted = false;
  }

  /** Waits for a wake-up after the `seen`th. */
  private nextPoke(seen: number): Promise<void> {
    if (this.pokes !== seen) return Promise.resolve();
    return new Promise<void>((resolve) => { this.woken = resolve; });
  }

  /** Resolves once scratch holds `bytes` bytes, or with false when it never will (or we stopped). */
  private async until(fh: FileHandle, bytes: number): Promise<boolean> {
    for (;;) {
      if (this.phase !== 'running') return false;
      const [seen, ended] = [this.pokes, this.ended];
      if ((await fh.stat()).size >= bytes) return true;
      if (ended) return false;
      await this.nextPoke(seen);
    }
  }

  private async run(): Promise<void> {
    const fh = await this.openScratch();
    if (!fh) return this.off();
    try {
      if (!(await this.readHead(fh))) return this.off();
      // Less than that is fine when the upload ended first: a short video.
      await this.until(fh, this.mdat!.dataAt + PROBE_BYTES);
      if (this.phase !== 'running') return;
      const samples = await this.begin(fh);
      if (!samples) return this.off();
      await this.stream(fh, samples);
    } finally {
      await fh.close();
    }
  }

  /** The scratch file, once the upload's writer has made it. */
  private async openScratch(): Promise<FileHandle | undefined> {
    for (;;) {
      const seen = this.pokes;
      try {
        return await open(this.path, 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || this.ended || this.phase !== 'running') return undefined;
      }
      await this.nextPoke(seen);
    }
  }

  /** Top-level boxes up to the mdat's header: ftyp, free space and one moov, nothing else. */
  private async readHead(fh: FileHandle): Promise<boolean> {
    const h = Buffer.alloc(16);
    for (let at = 0; ;) {
      if (!(await this.until(fh, at + 8))) return false;
      const { bytesRead } = await fh.read(h, 0, 16, at);
      let size = h.readUInt32BE(0);
      const type = h.toString('latin1', 4, 8);
      let header = 8;
      if (size === 1) {
        if (bytesRead < 16 && !(await this.until(fh, at + 16))) return false;
        await fh.read(h, 0, 16, at);
        size = Number(h.readBigUInt64BE(8));
        header = 16;
      }
      if (type === 'mdat') {
        if (this.moov === undefined || (size !== 0 && size < header)) return false;
        this.mdat = { at, dataAt: at + header, end: size === 0 ? Number.MAX_SAFE_INTEGER : at + size };
        return true;
      }
      if (size < header || (at === 0) !== (type === 'ftyp')) return false;
      if (type === 'moov') {
        if (this.moov !== undefined || size > MAX_MOOV) return false;
        this.moov = { at, header, end: at + size };
      } else if (!BEFORE_MDAT.has(type) || size > MIB) {
        return false;
      }
      at += size;
    }
  }

  /** Plans from the file's start as the ordinary path would from the whole file, then starts ffmpeg. */
  private async begin(fh: FileHandle): Promise<number[] | undefined> {
    if (running >= MAX_RUNNING) return undefined;
    running++;
    this.counted = true;
    const moov = this.moov!;
    const body = Buffer.alloc(moov.end - moov.at - moov.header);
    await fh.read(body, 0, body.length, moov.at + moov.header);
    const tracks = sampleRanges(body);
    if (!tracks) return undefined;
    // ffprobe reads the start of the upload as it will read the whole file: the moov and some data.
    const sniffed = await sniff(this.path);
    if (!sniffed || !STREAMED.has(sniffed.ext)) return undefined;
    const lim = { timeoutMs: 60_000, cpuSeconds: 60, memoryBytes: 1024 ** 3, fileBytes: 0 };
    const [p, records] = await Promise.all([probe(this.path, sniffed.ext), configRecords(this.path, sniffed.ext, lim)]);
    if (this.phase !== 'running') return undefined;
    // The mov demuxer makes one stream per trak, in order: anything else and our tables are not its.
    if (p.streams.length !== tracks.length || p.streams.some((s, i) => s.index !== i)) return undefined;
    const scrubbable = scrubbableStreams(keptStreams(p));
    const quads: number[] = [];
    for (const { index, codec } of scrubbable) {
      const L = nalLengthSize(p.streams[index], records?.byIndex.get(index), codec);
      if (L === undefined) return undefined;
      const t = tracks[index]!;
      for (let i = 0; i < t.length; i += 2) quads.push(t[i]!, t[i + 1]!, L, FILL_CODECS.indexOf(codec));
    }
    const samples = this.orderSamples(quads);
    if (!samples) return undefined;

    const decided = decidePlan('pipe:0', sniffed, { probe: p, records, packets: [], scrubbed: scrubbable.length > 0 ? 0 : undefined });
    const mib = Math.ceil(this.maxBytes / MIB);
    const factor = decided.reencode ? 2 : 1;
    const plan: RemuxPlan = {
      ...decided,
      limits: { timeoutMs: UPLOAD_WAIT_MS + mib * 200 * factor, cpuSeconds: 60 + mib * factor, memoryBytes: 1536 * MIB, fileBytes: (mib * factor + 64) * MIB },
    };
    await this.sink.prepare();
    if (this.phase !== 'running') return undefined;
    const cleaned = remuxStream(plan, sniffed.ext, { stdin: true });
    this.cleaned = cleaned;
    this.sink.start(cleaned, sniffed);
    // ffmpeg failed (a file it refuses): stop feeding it; the upload goes on into scratch.
    cleaned.done.then(() => this.release(), () => this.off());
    this.chosen = { sniffed, plan };
    return samples;
  }

  /** The samples sorted by offset; undefined when any lies outside the mdat or overlaps another. */
  private orderSamples(quads: number[]): number[] | undefined {
    const n = quads.length / 4;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => quads[a * 4]! - quads[b * 4]!);
    const out: number[] = new Array(quads.length);
    let prevEnd = this.mdat!.dataAt;
    for (const [k, i] of order.entries()) {
      const pos = quads[i * 4]!;
      const size = quads[i * 4 + 1]!;
      if (pos < prevEnd || pos + size > this.mdat!.end) return undefined;
      prevEnd = pos + size;
      for (let j = 0; j < 4; j++) out[k * 4 + j] = quads[i * 4 + j]!;
    }
    return out;
  }

  /**
   * Feeds ffmpeg the upload from scratch as it grows: each frame is walked once it is whole, and
   * the bytes before the next unwalked frame go on, with their SEI units painted over.
   */
  private async stream(fh: FileHandle, q: number[]): Promise<void> {
    const stdin = this.cleaned!.stdin!;
    const win = Buffer.alloc(4096);
    let winAt = -1;
    let winLen = 0;
    const peekSync = (at: number, n: number): Buffer => {
      if (winAt < 0 || at < winAt || at + n > winAt + winLen) {
        winLen = readSync(fh.fd, win, 0, win.length, at);
        winAt = at;
      }
      if (at + n > winAt + winLen) throw new RangeError('short read');
      return win.subarray(at - winAt, at - winAt + n);
    };
    // Fresh memory costs ~3 s/GiB of kernel time to touch on this VM, and each freed buffer feeds
    // the collector (BENCHMARKS.md, rounds 6 and 8): a few buffers, reused, carry the whole video.
    const pool = Array.from({ length: BUFFERS }, () => ({ buf: Buffer.allocUnsafeSlow(CHUNK), free: Promise.resolve() }));
    let turn = 0;
    let pos = 0;
    let sample = 0;
    let painted = 0;
    for (;;) {
      if (this.phase !== 'running') return;
      const [seen, ended] = [this.pokes, this.ended];
      const avail = (await fh.stat()).size;
      while (sample * 4 < q.length && q[sample * 4]! + q[sample * 4 + 1]! <= avail) {
        const i = sample * 4;
        if (walkSample(peekSync, q[i]!, q[i + 1]!, q[i + 2]!, FILL_CODECS[q[i + 3]!]!, this.fills) === undefined) return this.off();
        // A fast upload can leave thousands of frames to walk at once: other tips get their turn.
        if (++sample % 512 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.phase !== 'running') return;
      }
      const upTo = sample * 4 < q.length ? Math.min(avail, q[sample * 4]!) : avail;
      if (upTo - pos < FEED_AT_LEAST && !ended) {
        await this.nextPoke(seen);
        continue;
      }
      while (pos < upTo) {
        // A buffer is reused once ffmpeg's pipe has taken what it held: that wait is the back-pressure.
        const slot = pool[turn++ % pool.length]!;
        await slot.free;
        if (this.phase !== 'running') return;
        const buf = slot.buf.subarray(0, Math.min(upTo - pos, CHUNK));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead !== buf.length || this.phase !== 'running') return this.off();
        const f = this.fills;
        while (painted < f.length && f[painted]! + f[painted + 1]! <= pos) painted += 3;
        for (let j = painted; j < f.length && f[j]! < pos + buf.length; j += 3) paintFiller(buf, pos, f[j]!, f[j + 1]!, f[j + 2]!);
        pos += buf.length;
        slot.free = new Promise<void>((resolve) => {
          stdin.write(buf, () => resolve());
        });
      }
      if (ended) {
        // The tables promise a frame the upload did not bring: ffmpeg (-xerror) would refuse it too.
        if (sample * 4 < q.length) return this.off();
        if (pos === avail) return this.finish();
      }
    }
  }

  private finish(): void {
    this.phase = 'done';
    this.cleaned!.stdin!.end();
    this.settle({
      cleaned: this.cleaned!,
      sniffed: this.chosen!.sniffed,
      plan: this.chosen!.plan,
      fills: this.fills,
      layout: { moovAt: this.moov!.at, mdatAt: this.mdat!.at },
    });
  }
}
