/**
 * The contract every cleaner keeps. A cleaner reads one sniffed file from RAM-backed scratch and
 * writes a cleaned copy next to it, or (a StreamCleaner) hands the cleaned bytes on as they are made.
 * It knows nothing of HTTP, Redis or keys, so each can be tested alone, and the intake never has to
 * trust what a cleaner did not report.
 */
import type { Readable } from 'node:stream';

/** What the newsroom calls a file; also the stem of its cleaned name (photo-1.jpg, video-2.mp4). */
export type Kind = 'photo' | 'video' | 'audio' | 'document';

/** The type as sniffed from content by file-type; the tipster's name and MIME are never consulted. */
export interface Sniffed {
  ext: string;
  mime: string;
}

/** What was taken out, by category (e.g. { exif: 1, gps: 1, thumbnail: 1, subtitle_stream: 1 }). */
export interface CleanReport {
  removed: Record<string, number>;
  /** Shown to editors in the manifest, e.g. "HEIC delivered as JPEG". */
  warnings: string[];
}

export interface Cleaned {
  /** Path of the cleaned file, inside the same scratch folder. The caller deletes it. */
  path: string;
  kind: Kind;
  /** Extension of the cleaned file, without the dot. */
  ext: string;
  report: CleanReport;
}

/** Where a cleaner may write its output and any intermediate files. RAM-backed (tmpfs). */
export interface Scratch {
  /** A fresh, random, unused path in scratch (no tipster-chosen part). */
  path(suffix?: string): string;
}

export type Cleaner = (input: string, sniffed: Sniffed, scratch: Scratch) => Promise<Cleaned>;

/**
 * A cleaning whose output goes straight into the seal as the tool makes it, so a 2 GiB video is not
 * written to scratch a second time and remuxing and sealing run at once, on two cores.
 * `stream` may be the tool's own pipe, handed to a sealer process as is: its end says nothing about
 * success. Only `done` does: it resolves once the output was whole (then `report` and `bytes` are
 * final) and rejects otherwise, so nothing sealed from `stream` may be kept before it resolves.
 */
export interface CleanedStream {
  stream: Readable;
  done: Promise<void>;
  kind: Kind;
  ext: string;
  report: CleanReport;
  /** Size of the cleaned file, once `done` has resolved. */
  bytes: number;
  /** Stops the tool and drops its output (when the seal or the vault failed). */
  abort(): void;
}

export type StreamCleaner = (input: string, sniffed: Sniffed) => Promise<CleanedStream>;
