/**
 * A tip whose first file is a fast-start MP4/MOV is remuxed and sealed while it uploads
 * (sanitize/video-early.ts), into a draft of its own. Once the upload is whole, store-tip.ts asks
 * adopt(): the draft becomes the tip's when the check (video-early-check.ts) says ffmpeg got what
 * the ordinary path would give it; otherwise the draft is dropped, the bytes blanked are put back,
 * and the file is cleaned from scratch as usual. Only the first file: its name in the tip
 * (file-1.pgp, video-1.mp4) is known before anything else of the tip is.
 */
import type { ReceivedFile, UploadTap } from './receive.ts';
import { sealStream, type TipStore } from './store-tip.ts';
import { newTipId } from './receipt.ts';
import type { ManifestFile } from './manifest.ts';
import { EarlyRemux, type EarlyResult } from '../sanitize/video-early.ts';
import { checkEarly } from '../sanitize/video-early-check.ts';
import type { CleanedStream, Sniffed } from '../sanitize/types.ts';
import type { RemuxPlan } from '../sanitize/video-plan.ts';
import type { SealedFile, TipDraft } from '../vault/vault.ts';

export interface Adopted {
  tipId: string;
  draft: TipDraft;
  sealed: SealedFile;
  entry: ManifestFile;
}

/** Tests read these to know which path a tip took; they say nothing of any tip. */
export const earlyCounts = { started: 0, kept: 0, dropped: 0 };

export class EarlySeal {
  private remux: EarlyRemux | undefined;
  private tipId: string | undefined;
  private draft: TipDraft | undefined;
  private sealing: Promise<SealedFile> | undefined;
  private cleaned: CleanedStream | undefined;
  private adopted = false;
  private disposed = false;

  constructor(private readonly store: TipStore, private readonly maxFileBytes: number) {}

  /** For receive(): a tap on the tip's first file. */
  readonly tap = (index: number, path: string): UploadTap | undefined => {
    if (index !== 0 || this.remux) return undefined;
    this.remux = new EarlyRemux(path, this.maxFileBytes, {
      prepare: async () => {
        const tipId = newTipId();
        const draft = await this.store.vault.begin(tipId);
        // Disposed while the draft was being made: nobody else would remove it (review, session 7).
        if (this.disposed) {
          await draft.abort();
          throw new Error('disposed');
        }
        [this.tipId, this.draft] = [tipId, draft];
      },
      start: (cleaned) => {
        earlyCounts.started++;
        this.cleaned = cleaned;
        this.sealing = sealStream(this.store, this.draft!, 'file-1.pgp', cleaned, `video-1.${cleaned.ext}`);
        // A seal that fails before it reads ffmpeg's output would leave ffmpeg blocked on a full pipe.
        this.sealing.catch(() => this.remux?.abort());
      },
    });
    return this.remux;
  };

  /**
   * The first file, sealed during its upload, when it may be kept; else undefined, and scratch
   * holds the file as it was sent, for the ordinary cleaning.
   */
  async adopt(file: ReceivedFile, sniffed: Sniffed): Promise<Adopted | undefined> {
    const remux = this.remux;
    const early = await remux?.result;
    if (!remux || !early || !this.sealing) {
      await this.drop();
      return undefined;
    }
    const sealing = this.sealing.then(async (s) => { await early.cleaned.done; return s; });
    sealing.catch(() => {});
    // The check first, while ffmpeg and gpg finish: a refusal stops them at once, rather than after
    // an ffmpeg that may be waiting for bytes that never come.
    const verdict = await checkEarly(early, file.rawPath, sniffed).catch(() => undefined);
    const sealed = verdict?.keep ? await sealing.then((s) => s, () => undefined) : undefined;
    // The ordinary path's output cap, for the size the file turned out to be.
    const fits = verdict !== undefined && early.cleaned.bytes < (verdict.plan.limits.fileBytes ?? Number.MAX_SAFE_INTEGER);
    if (verdict?.keep && sealed && fits) {
      this.adopted = true;
      earlyCounts.kept++;
      return { tipId: this.tipId!, draft: this.draft!, sealed, entry: entryOf(early, verdict.plan) };
    }
    earlyCounts.dropped++;
    await this.drop();
    return undefined;
  }

  /** Gives up on the early remux of a file that will still be cleaned: the bytes we blanked go back. */
  async drop(): Promise<void> {
    await this.dispose();
    await this.remux?.restore();
  }

  /** Drops whatever was made and not adopted: ffmpeg, the seal, the draft. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.adopted) return;
    this.disposed = true;
    this.remux?.abort();
    this.cleaned?.abort();
    await this.sealing?.catch(() => {});
    const draft = this.draft;
    this.draft = undefined;
    this.sealing = undefined;
    await draft?.abort();
  }
}

function entryOf(early: EarlyResult, plan: RemuxPlan): ManifestFile {
  const { cleaned } = early;
  // The units blanked are ours (the ordinary plan found none left), plus the SEI the streamed
  // HEVC moov lost on its way out.
  const removed = { ...plan.removed };
  const sei = early.fills.length / 3 + (cleaned.report.removed.sei ?? 0);
  if (sei > 0) removed.sei = sei;
  return { kind: 'video', name: `video-1.${cleaned.ext}`, size: cleaned.bytes, sealed: 'file-1.pgp', removed, warnings: plan.warnings };
}
