/**
 * From received plaintext in scratch to a committed, sealed tip in the vault: sniff every file, clean
 * it, seal it to every editor, and write the sealed manifest. Plaintext exists only in scratch (RAM)
 * and is removed as soon as its sealed copy is written. If anything fails, the draft is dropped whole:
 * editors never get half a tip, and a file is never passed on uncleaned.
 */
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { Keyring } from '../crypto/keyring.ts';
import { seal, sealBytes } from '../crypto/seal.ts';
import { sealFile } from '../crypto/seal-pool.ts';
import { sealWithGpg, sealWithGpgToFd, type GpgSealer } from '../crypto/seal-gpg.ts';
import type { SealThread } from '../crypto/seal-thread.ts';
import { CleaningFailed, EmptyTip, UnsupportedType, TooLarge, BadForm, TipError } from '../errors.ts';
import { cleanerFor, sniff, streamCleanerFor } from '../sanitize/index.ts';
import { removeScratch } from '../sanitize/scratch.ts';
import { errorType } from '../log.ts';
import type { CleanedStream, Kind, Scratch, Sniffed } from '../sanitize/types.ts';
import type { Vault, SealedFile, TipDraft } from '../vault/vault.ts';
import type { Received } from './receive.ts';
import { MANIFEST_NAME, receivedDay, type Manifest, type ManifestFile } from './manifest.ts';
import { newReceipt, newTipId } from './receipt.ts';
import { cleanLinks } from './links-field.ts';
import { readAtOnce } from './read-at-once.ts';
import { Slots } from '../slots.ts';
import type { Adopted, EarlySeal } from './early-seal.ts';
import { STREAMED } from '../sanitize/video-stream.ts';

/** One cleaning per core at a time: ffmpeg, sharp and pdftoppm are CPU-bound (see slots.ts). */
const cleaning = new Slots(Math.max(1, availableParallelism()));

export interface TipStore {
  keyring: Keyring;
  vault: Vault;
  scratch: Scratch;
  log: Logger;
  limits: { maxNoteChars: number; maxLinks: number };
  /** Seal in worker threads (src/crypto/seal-pool.ts) instead of on the event loop (SEAL_THREADS). */
  sealThreads?: boolean;
  /** Seals streamed videos with gpg when set (BULK_SEALER, src/crypto/seal-gpg.ts). */
  gpg?: GpgSealer;
  /** Seals manifests off the event loop (seal-thread.ts); without it they are sealed here. */
  manifests?: SealThread;
}

export interface StoredTip {
  tipId: string;
  receipt: string;
  sealed: SealedFile[];
  files: number;
  /** Settles once the RAM of the tip's uploads is given back: the route waits for it after the receipt. */
  freed: Promise<void>;
}

/**
 * Seals a cleaning's output as it comes into the draft. Called with no await between the cleaner's
 * start and this: gpg may take ffmpeg's pipe as it is, and write straight into the vault's file,
 * so the video never crosses our event loop.
 */
export function sealStream(store: TipStore, draft: TipDraft, sealedName: string, cleaned: CleanedStream, name: string): Promise<SealedFile> {
  const { gpg } = store;
  if (gpg && draft.putFromFd) return draft.putFromFd(sealedName, (fd) => sealWithGpgToFd(gpg, cleaned.stream, name, fd));
  if (gpg) return draft.put(sealedName, sealWithGpg(gpg, cleaned.stream, name));
  // openpgp.js waits for a seal slot before it reads: the output is taken now, and counted.
  const source = readAtOnce(cleaned.stream);
  return seal(source.stream, store.keyring.keys, name).then(async (sealedStream) => {
    const file = await draft.put(sealedName, sealedStream);
    await cleaned.done;
    if (source.bytes() !== cleaned.bytes) throw new CleaningFailed({ type: cleaned.ext }, 'the cleaned file did not all reach the seal');
    return file;
  });
}

export async function storeTip(store: TipStore, received: Received, scratchPaths: string[], early?: EarlySeal): Promise<StoredTip> {
  const note = (received.fields.note ?? '').replace(/\r\n/g, '\n').trim();
  const linksText = received.fields.links ?? '';
  // Characters as people count them: an emoji is one, not two UTF-16 units.
  if (note.length > store.limits.maxNoteChars && [...note].length > store.limits.maxNoteChars) throw new TooLarge('note_too_long', { max: store.limits.maxNoteChars });
  const links = cleanLinks(linksText);
  if (links.links.length > store.limits.maxLinks) throw new TooLarge('too_many_links', { max: store.limits.maxLinks });
  if (!note && links.links.length === 0 && received.files.length === 0) throw new EmptyTip();
  const empty = received.files.find((f) => f.bytes === 0);
  if (empty) throw new BadForm('empty_file', { file: empty.clientName });

  // Sniff everything first: an unsupported file refuses the tip before any costly cleaning.
  const sniffed: Sniffed[] = [];
  for (const f of received.files) {
    const s = await sniff(f.rawPath);
    try {
      cleanerFor(s);
    } catch (e) {
      if (e instanceof UnsupportedType) throw new UnsupportedType({ file: f.clientName, type: s?.ext ?? 'unknown' });
      throw e;
    }
    sniffed.push(s!);
  }

  // The first file may have been remuxed and sealed while it arrived (early-seal.ts): keep it when
  // the check allows, else clean it here as any other.
  let first: Adopted | undefined;
  if (early && received.files.length > 0 && STREAMED.has(sniffed[0]!.ext)) {
    const done = await cleaning.acquire();
    try {
      first = await early.adopt(received.files[0]!, sniffed[0]!).catch((e: unknown) => {
        if (e instanceof TipError) Object.assign(e.params, { file: received.files[0]!.clientName });
        throw e;
      });
    } finally {
      done();
    }
  } else {
    await early?.drop();
  }

  const tipId = first?.tipId ?? newTipId();
  const receipt = newReceipt();
  const draft = first?.draft ?? await store.vault.begin(tipId);
  // Uploads whose names are gone and whose RAM is being given back (removeScratch).
  const freeing: Array<Promise<void>> = [];
  try {
    const sealed: SealedFile[] = [];
    const entries: ManifestFile[] = [];
    const perKind: Partial<Record<Kind, number>> = {};
    if (first) {
      sealed.push(first.sealed);
      entries.push(first.entry);
      perKind.video = 1;
      freeing.push(removeScratch(received.files[0]!.rawPath));
    }
    for (const [i, f] of received.files.entries()) {
      if (i === 0 && first) continue;
      const s = sniffed[i]!;
      const sealedName = `file-${i + 1}.pgp`;
      const kindOf = (kind: Kind) => (perKind[kind] = (perKind[kind] ?? 0) + 1);
      const nameFile = (e: unknown) => {
        // Name the file back to the tipster; the reason stays out of logs and responses.
        if (e instanceof TipError) Object.assign(e.params, { file: f.clientName });
        return e;
      };
      const streamer = streamCleanerFor(s);
      if (streamer) {
        // Remux and seal at once: the cleaned video goes from ffmpeg's pipe into the seal, never to scratch.
        const done = await cleaning.acquire();
        try {
          const cleaned = await streamer(f.rawPath, s).catch((e: unknown) => { throw nameFile(e); });
          const name = `${cleaned.kind}-${kindOf(cleaned.kind)}.${cleaned.ext}`;
          try {
            sealed.push(await sealStream(store, draft, sealedName, cleaned, name));
          } catch (e) {
            cleaned.abort();
            throw nameFile(e);
          }
          // A pipe ends the same way whether ffmpeg succeeded or not: only its exit says the video is whole.
          await cleaned.done.catch((e: unknown) => { throw nameFile(e); });
          entries.push({ kind: cleaned.kind, name, size: cleaned.bytes, sealed: sealedName, removed: cleaned.report.removed, warnings: cleaned.report.warnings });
        } finally {
          done();
        }
        freeing.push(removeScratch(f.rawPath));
        continue;
      }
      const done = await cleaning.acquire();
      const cleaned = await cleanerFor(s)(f.rawPath, s, store.scratch).finally(done).catch((e: unknown) => { throw nameFile(e); });
      scratchPaths.push(cleaned.path);
      freeing.push(removeScratch(f.rawPath));
      const name = `${cleaned.kind}-${kindOf(cleaned.kind)}.${cleaned.ext}`;
      const size = (await stat(cleaned.path)).size;
      // SEAL_THREADS=1 seals in a worker thread, so this event loop stays free for other tips; off by
      // default: two threads cost the intake ~170 MiB more peak RSS (BENCHMARKS.md, round 2).
      const sealedStream = store.sealThreads
        ? await sealFile(cleaned.path, store.keyring.keys, name)
        : await seal(createReadStream(cleaned.path, { highWaterMark: 1024 * 1024 }), store.keyring.keys, name);
      sealed.push(await draft.put(sealedName, sealedStream));
      await rm(cleaned.path, { force: true });
      entries.push({ kind: cleaned.kind, name, size, sealed: sealedName, removed: cleaned.report.removed, warnings: cleaned.report.warnings });
    }
    const manifest: Manifest = {
      version: 1,
      receipt,
      receivedAt: receivedDay(),
      note,
      links: links.links,
      linksRemoved: links.removed,
      linkWarnings: links.warnings,
      files: entries,
    };
    const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2));
    const sealedManifest = store.manifests ? await store.manifests.seal(bytes, 'manifest.json') : await sealBytes(bytes, store.keyring.keys, 'manifest.json');
    sealed.push(await draft.putBytes(MANIFEST_NAME, sealedManifest));
    await draft.commit();
    return { tipId, receipt, sealed, files: entries.length, freed: Promise.all(freeing).then(() => undefined) };
  } catch (e) {
    // The tipster is told why their tip was refused, not that a folder could not be removed (the
    // vault sweeps drafts left behind at its next start).
    await draft.abort().catch((err: unknown) => store.log.error({ err: { type: errorType(err) } }, 'draft not removed'));
    // The route gives the upload budget back when this throws: the RAM it counts must be free by then.
    await Promise.all(freeing);
    throw e;
  }
}
