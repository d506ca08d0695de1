/**
 * POST /tips: receive, clean, seal, commit, queue, acknowledge. A tip is acknowledged only once it
 * is durable in the vault; if Redis is down at that moment, the vault is the outbox and the sweep
 * queues it later.
 */
import { Router, type Request, type Response } from 'express';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import type { Config } from '../../config.ts';
import { TipError } from '../../errors.ts';
import { enqueueTip, type TipJob } from '../../queue/tips.ts';
import { receive, type Received } from '../receive.ts';
import { storeTip, type TipStore } from '../store-tip.ts';
import { EarlySeal } from '../early-seal.ts';
import { sendError, wantsJson } from '../respond.ts';
import { langOf } from '../lang.ts';
import { thanksPage } from '../views/pages.ts';
import { claimUploads } from '../tus/claim.ts';
import type { PartialStore } from '../tus/partial-store.ts';
import type { AbuseGate } from '../abuse/gate.ts';
import type { BytesInFlight } from '../abuse/budget.ts';
import { newReceipt } from '../receipt.ts';
import { errorType } from '../../log.ts';

export interface TipRouteDeps extends TipStore {
  config: Config;
  queue: Queue<TipJob>;
  /** Finished resumable uploads (tus), referenced by id in the form's `uploads` field. */
  uploads?: PartialStore;
  gate: AbuseGate;
  inFlight: BytesInFlight;
}

export function tipRoutes(deps: TipRouteDeps): Router {
  const { config, log } = deps;
  const r = Router();
  r.post('/tips', async (req: Request, res: Response) => {
    const lang = langOf(req);
    const scratchPaths: string[] = [];
    // A path whose removal fails stays listed, so the `finally` below tries it again.
    const cleanup = async () => {
      const paths = scratchPaths.splice(0);
      const results = await Promise.allSettled(paths.map((p) => rm(p, { force: true })));
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ path: paths[i]!, reason: r.reason as unknown }] : []));
      scratchPaths.push(...failed.map((f) => f.path));
      if (failed.length > 0) throw failed[0]!.reason;
    };
    // Where a failed removal must not stop what follows (the route's cleanup runs again in `finally`).
    const cleanupOrLog = () => cleanup().catch((e: unknown) => log.error({ err: { type: errorType(e) } }, 'scratch not removed'));
    let received: Received | undefined;
    let freed: Promise<void> | undefined;
    // Filled as fields arrive, so a refusal mid-upload still gives back the typed note.
    const typed: Record<string, string> = {};
    // Bytes in flight across all tips bound RAM scratch; a request that says nothing of its size
    // is counted at the largest a tip may be.
    const declared = Number(req.get('content-length') ?? config.MAX_TIP_BYTES);
    const release = deps.inFlight.reserve(Math.min(Number.isFinite(declared) ? declared : config.MAX_TIP_BYTES, config.MAX_TIP_BYTES));
    // A fast-start video first in the form is remuxed and sealed while it arrives (early-seal.ts),
    // under the limits of a file as large as the request says it is.
    const early = config.STREAM_WHILE_UPLOADING && Number.isFinite(declared)
      ? new EarlySeal(deps, Math.min(declared, config.MAX_FILE_BYTES)) : undefined;
    try {
      if (!release) throw new TipError(503, 'busy_upload');
      received = await receive(
        req,
        {
          maxFileBytes: config.MAX_FILE_BYTES,
          maxTipBytes: config.MAX_TIP_BYTES,
          maxFiles: config.MAX_FILES,
          maxFieldBytes: config.MAX_NOTE_CHARS * 4 + 1024,
        },
        deps.scratch,
        scratchPaths,
        typed,
        early?.tap,
      );
      // Admission comes before any cleaning, the costly part. A bot that filled the honeypot is
      // thanked with a receipt that means nothing, and its tip is dropped.
      if ((await deps.gate.admit(received.fields)) === 'honeypot') {
        log.info('honeypot tip dropped');
        if (wantsJson(req)) res.status(201).json({ receipt: newReceipt(), files: received.files.length });
        else res.status(201).type('html').send(thanksPage(lang, newReceipt(), received.files.length));
        return;
      }
      const claimed = await claimUploads(deps.uploads, received.fields.uploads, deps.scratch, scratchPaths, received.files, {
        maxFiles: config.MAX_FILES,
        maxTipBytes: config.MAX_TIP_BYTES,
      });
      received.files.push(...claimed.files);
      const tip = await storeTip(deps, received, scratchPaths, early);
      ({ freed } = tip);
      await claimed.done();
      // The tip is committed: a scratch file that will not go is logged (and tried again below, and
      // swept at the next start), never a refusal that would send the tipster to upload it again.
      await cleanupOrLog();
      // The tip is durable in the vault: if Redis is slow or gone, the outbox sweep queues it, so
      // the tipster is not kept waiting for their receipt.
      await Promise.race([
        enqueueTip(deps.queue, { tipId: tip.tipId, files: tip.sealed }).catch(() => {
          log.warn({ tip: tip.tipId }, 'queue unavailable; tip kept in the vault outbox');
        }),
        sleep(2000, undefined, { ref: false }),
      ]);
      log.info({ tip: tip.tipId, files: tip.files }, 'tip accepted');
      if (wantsJson(req)) res.status(201).json({ receipt: tip.receipt, files: tip.files });
      else res.status(201).type('html').send(thanksPage(lang, tip.receipt, tip.files));
    } catch (e) {
      if (e instanceof TipError) log.info({ code: e.code }, 'tip refused');
      else log.error({ err: { type: errorType(e) } }, 'tip failed');
      await cleanupOrLog();
      if (!req.complete) res.set('Connection', 'close');
      if (e instanceof TipError && e.status === 429) res.set('Retry-After', String(e.params.seconds ?? 60));
      // The typed note and links go back into the form, so a refusal never loses them.
      sendError(req, res, lang, e, received?.fields ?? typed);
    } finally {
      // Each step runs even when the one before it fails: a budget never given back would refuse
      // every later upload. It counts RAM, so it comes back last, once the uploads' pages are free.
      await early?.dispose().catch((e: unknown) => log.error({ err: { type: errorType(e) } }, 'early remux not disposed'));
      await freed;
      await cleanupOrLog();
      release?.();
    }
  });
  return r;
}
