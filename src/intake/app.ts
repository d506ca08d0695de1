/**
 * The tipster-facing HTTP app. It never reads the client's address or sets a cookie, and it logs no
 * request: what reaches the log is a tip's opaque id and outcome.
 */
import express, { type Request, type Response } from 'express';
import { rm } from 'node:fs/promises';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { enqueueTip, type TipJob } from '../queue/tips.ts';
import { receive } from './receive.ts';
import { storeTip, type TipStore } from './store-tip.ts';
import { sendError, wantsJson } from './respond.ts';
import { pickLang } from './i18n/index.ts';
import { formPage, thanksPage } from './views/pages.ts';
import { TipError } from '../errors.ts';

export interface IntakeDeps extends TipStore {
  config: Config;
  queue: Queue<TipJob>;
  /** Resolves true when Redis answers; used by /readyz. */
  redisReady: () => Promise<boolean>;
}

function langOf(req: Request): string {
  return pickLang(req.query.lang, req.get('accept-language'));
}

export function createApp(deps: IntakeDeps): express.Express {
  const { config, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  app.get('/readyz', async (_req, res) => {
    const redis = await deps.redisReady();
    const body = { redis, keyring: deps.keyring.editors.length > 0, demoKeys: deps.keyring.demo };
    const warning = deps.keyring.demo ? 'DEMO KEYS: generated demo editor key in use; not for real tips' : undefined;
    res.status(redis ? 200 : 503).json(warning ? { ...body, warning } : body);
  });

  app.get('/', (req, res) => {
    res.type('html').send(formPage(langOf(req)));
  });

  app.post('/tips', async (req: Request, res: Response) => {
    const lang = langOf(req);
    const scratchPaths: string[] = [];
    try {
      const received = await receive(
        req,
        {
          maxFileBytes: config.MAX_FILE_BYTES,
          maxTipBytes: config.MAX_TIP_BYTES,
          maxFiles: config.MAX_FILES,
          maxFieldBytes: config.MAX_NOTE_CHARS * 4 + 1024,
        },
        deps.scratch,
        scratchPaths,
      );
      const tip = await storeTip(deps, received, scratchPaths);
      // The tip is durable in the vault now. If Redis is down, the outbox sweep queues it later.
      await enqueueTip(deps.queue, { tipId: tip.tipId, files: tip.sealed }).catch(() => {
        log.warn({ tip: tip.tipId }, 'queue unavailable; tip kept in the vault outbox');
      });
      log.info({ tip: tip.tipId, files: tip.files }, 'tip accepted');
      if (wantsJson(req)) res.status(201).json({ receipt: tip.receipt, files: tip.files });
      else res.status(201).type('html').send(thanksPage(lang, tip.receipt, tip.files));
    } catch (e) {
      if (!(e instanceof TipError)) log.error({ err: { type: e instanceof Error ? e.name : 'unknown' } }, 'tip failed');
      else log.info({ code: e.code }, 'tip refused');
      if (!req.complete) res.set('Connection', 'close');
      sendError(req, res, lang, e);
    } finally {
      await Promise.all(scratchPaths.map((p) => rm(p, { force: true })));
    }
  });

  app.use((req: Request, res: Response) => {
    sendError(req, res, langOf(req), new TipError(404, 'not_found'));
  });
  return app;
}
