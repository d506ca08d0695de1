/**
 * Reads a tipster's zip container (DOCX, XLSX, PPTX, ODT, ODS) into memory, entry by entry.
 *
 * Threat: a zip is a program for the decompressor. A few KiB can declare gigabytes (a zip bomb),
 * hold millions of entries, name an entry `../../etc/cron.d/x`, or hold two entries with the same
 * name so that we clean one while Word opens the other.
 * Defence: we read the central directory only (never trust local headers), refuse before inflating
 * anything when the entry count, declared total size or one entry's ratio is over a limit, refuse
 * unsafe and duplicate names, and count the bytes actually inflated (yauzl also checks each entry
 * against its declared size, so a lying header fails instead of growing).
 * Limit: everything read is held in memory, which the limits bound (200 MiB by default).
 */
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { CleaningFailed } from '../errors.ts';

export interface ZipLimits {
  maxEntries: number;
  maxTotalBytes: number;
  /** Largest uncompressed:compressed ratio for one entry above `ratioFloorBytes`. */
  maxRatio: number;
  /** Small entries may compress well (repetitive XML) without being a threat. */
  ratioFloorBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 2000,
  maxTotalBytes: 200 * 1024 * 1024,
  maxRatio: 100,
  ratioFloorBytes: 1024 * 1024,
};

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/** A name we are willing to write back out: relative, no `..`, no backslash or control bytes. */
export function isSafeEntryName(name: string): boolean {
  if (name.length === 0 || name.length > 512) return false;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return false;
  if (/[\\\u0000-\u001f]/.test(name)) return false;
  return name.split('/').every((seg, i, all) => seg !== '..' && seg !== '.' && (seg !== '' || i === all.length - 1));
}

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true, decodeStrings: true },
      (err, zip) => (err || !zip ? reject(err ?? new Error('no zip')) : resolve(zip)));
  });
}

function listEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (e: Entry) => { entries.push(e); zip.readEntry(); });
    zip.on('end', () => resolve(entries));
    zip.on('error', reject);
    zip.readEntry();
  });
}

function inflate(zip: ZipFile, entry: Entry, budget: { left: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      const parts: Buffer[] = [];
      stream.on('data', (b: Buffer) => {
        budget.left -= b.length;
        if (budget.left < 0) stream.destroy(new Error('total size over limit while inflating'));
        else parts.push(b);
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(parts)));
    });
  });
}

/**
 * All file entries of the zip, in central-directory order (folders are skipped: writers recreate
 * them implicitly). Throws CleaningFailed on any limit or malformation.
 */
export async function readZipEntries(path: string, type: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ZipEntry[]> {
  const refuse = (reason: string): never => { throw new CleaningFailed({ type }, reason); };
  let zip: ZipFile;
  try { zip = await openZip(path); } catch (e) { return refuse('not a readable zip: ' + String(e)); }
  try {
    if (zip.entryCount > limits.maxEntries) refuse(`too many entries (${zip.entryCount})`);
    let entries: Entry[];
    try { entries = await listEntries(zip); } catch (e) { return refuse('bad central directory: ' + String(e)); }
    const seen = new Set<string>();
    let declared = 0;
    for (const e of entries) {
      if (!isSafeEntryName(e.fileName)) refuse('unsafe entry name');
      // Case-folded: some readers are case-insensitive, so `A.xml` and `a.xml` collide for them.
      const key = e.fileName.toLowerCase();
      if (seen.has(key)) refuse('duplicate entry name');
      seen.add(key);
      if (e.isEncrypted()) refuse('encrypted entry');
      if (e.compressionMethod !== 0 && e.compressionMethod !== 8) refuse('unsupported compression method');
      declared += e.uncompressedSize;
      if (declared > limits.maxTotalBytes) refuse('declared size over limit');
      if (e.uncompressedSize > limits.ratioFloorBytes && e.uncompressedSize > limits.maxRatio * Math.max(1, e.compressedSize)) {
        refuse('compression ratio over limit');
      }
    }
    const budget = { left: limits.maxTotalBytes };
    const out: ZipEntry[] = [];
    for (const e of entries) {
      if (e.fileName.endsWith('/')) continue;
      try { out.push({ name: e.fileName, data: await inflate(zip, e, budget) }); } catch (err) {
        refuse('entry could not be inflated: ' + String(err));
      }
    }
    return out;
  } finally {
    zip.close();
  }
}
