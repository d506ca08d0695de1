/**
 * From finished resumable uploads to files in scratch, so a tip made of them goes through exactly
 * the same storeTip() (sniff, clean, seal) as a file sent in the form's own POST.
 *
 * Threat: an upload id is a bearer token; a claimed upload lingering would be a second copy of the
 * tipster's file. Defence: ids are random and checked for shape; the plaintext goes only to
 * RAM-backed scratch (the caller's scratchPaths removes it whatever happens); the sealed partial is
 * removed only once the tip is durable (done()), so a tip refused for its note keeps its uploads and
 * the tipster does not upload an hour of video again.
 */
import { BadForm, TipError, TooLarge } from '../../errors.ts';
import type { Scratch } from '../../sanitize/types.ts';
import type { ReceivedFile } from '../receive.ts';
import { UPLOAD_ID, type PartialStore } from './partial-store.ts';

export interface ClaimLimits {
  maxFiles: number;
  maxTipBytes: number;
}

export interface Claimed {
  files: ReceivedFile[];
  /** Removes the claimed uploads for good: call once the tip is committed. */
  done(): Promise<void>;
}

export function parseUploadIds(text: string | undefined): string[] {
  const ids = (text ?? '').split(/[\s,]+/).filter((s) => s.length > 0);
  if (ids.some((id) => !UPLOAD_ID.test(id))) throw new BadForm('bad_form');
  return [...new Set(ids)];
}

/**
 * `already` is what the form's POST brought, so the limits hold for the tip as a whole.
 * Lost uploads (expired, or gone in a restart) refuse the tip with a message saying so.
 */
export async function claimUploads(
  store: PartialStore | undefined,
  idsText: string | undefined,
  scratch: Scratch,
  scratchPaths: string[],
  already: ReceivedFile[],
  limits: ClaimLimits,
): Promise<Claimed> {
  const ids = parseUploadIds(idsText);
  if (ids.length === 0) return { files: [], done: async () => {} };
  if (!store) throw new TipError(410, 'upload_lost');
  if (already.length + ids.length > limits.maxFiles) throw new TooLarge('too_many_files', { max: limits.maxFiles });
  let total = already.reduce((n, f) => n + f.bytes, 0);
  const files: ReceivedFile[] = [];
  for (const id of ids) {
    const p = store.finished(id);
    if (!p) throw new TipError(410, 'upload_lost');
    total += p.sealed.offset;
    if (total > limits.maxTipBytes) throw new TooLarge('tip_too_large');
    const rawPath = scratch.path('.upload');
    scratchPaths.push(rawPath);
    const bytes = await p.sealed.decryptTo(rawPath).catch(() => {
      throw new TipError(410, 'upload_lost');
    });
    files.push({ rawPath, bytes, clientName: p.clientName });
  }
  return {
    files,
    async done() {
      for (const id of ids) await store.remove(id).catch(() => {});
    },
  };
}
