/**
 * The manifest is the editors' view of a tip: the note, the links, and for each file its kind, its
 * cleaned name, its size and what was removed. It is sealed like any file. It records the day a tip
 * arrived, never the time, so that a seized inbox cannot be lined up against network logs.
 */
import type { CleanReport, Kind } from '../sanitize/types.ts';

export interface ManifestFile {
  kind: Kind;
  /** photo-1.jpg: never the tipster's file name, which is metadata (IMG_20220526_134512.jpg). */
  name: string;
  size: number;
  /** The sealed file in the tip folder that holds it. */
  sealed: string;
  removed: CleanReport['removed'];
  warnings: string[];
}

export interface Manifest {
  version: 1;
  /** What the tipster was shown, so an editor can match a tipster who quotes it. */
  receipt: string;
  receivedAt: string;
  note: string;
  links: string[];
  /** Sharer and tracking parameters taken out of the links, by name. */
  linksRemoved: Record<string, number>;
  linkWarnings: string[];
  files: ManifestFile[];
}

export const MANIFEST_NAME = 'manifest.json.pgp';

export function receivedDay(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}
