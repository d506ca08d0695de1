/**
 * Writes a fresh zip from cleaned entries.
 *
 * Threat: the container itself carries metadata. Each entry has a modification time (which betrays
 * when, and in which time zone, the tipster last saved), Unix owner/mode bits in "extra" fields, and
 * the archive may have a comment; local headers may disagree with the central directory.
 * Defence: we never copy the original container. Every entry is written anew with one fixed DOS time
 * (1980-01-01, no extended-timestamp field), a fixed mode, no comment, in the order given.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

export interface OutEntry {
  name: string;
  data: Buffer;
  /** Stored without compression (ODF's `mimetype` must be). */
  store?: boolean;
}

/** The epoch of DOS time: the same for every entry of every cleaned file. */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);

export async function writeZip(entries: OutEntry[], outPath: string): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    zip.addBuffer(e.data, e.name, {
      mtime: FIXED_MTIME,
      mode: 0o100644,
      compress: !e.store,
      forceDosTimestamp: true,
    });
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(outPath, { mode: 0o600 }));
}
