/**
 * The tipster-facing HTTP app. It never reads the client's address or sets a cookie, and it logs no
 * request: what reaches the log is a tip's opaque id and outcome.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { TipError } from '../errors.ts';
import { ACCEPTED_EXTENSIONS } from '../sanitize/index.ts';
import { healthRoutes } from './routes/health.ts';
import { pageRoutes } from './routes/pages.ts';
import { tipRoutes, type TipRouteDeps } from './routes/tips.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { sendError } from './respond.ts';
import { langOf } from './lang.ts';
import { securityHeaders } from './security-headers.ts';
import { loadBranding } from './branding.ts';
import { setViewContext } from './views/context.ts';
import { PartialStore } from './tus/partial-store.ts';
import { abuseRoutes } from './routes/abuse.ts';

export interface IntakeDeps extends TipRouteDeps {
  /** Resolves true when Redis answers; used by /readyz. */
  redisReady: () => Promise<boolean>;
}

/** A connection silent this long is cut (main.ts); the form tells tipsters so. */
const STALL_MINUTES = 2;

export function createApp(deps: IntakeDeps): express.Express {
  const { config } = deps;
  const brand = loadBranding(config);
  setViewContext({
    brand,
    limits: { maxFileBytes: config.MAX_FILE_BYTES, maxTipBytes: config.MAX_TIP_BYTES, maxFiles: config.MAX_FILES, stallMinutes: STALL_MINUTES },
    extensions: ACCEPTED_EXTENSIONS,
    issueTicket: () => deps.gate.issueTicket(),
  });
  const uploads = deps.uploads ?? new PartialStore({ dir: config.PARTIALS_DIR, maxUploads: 500, expireMs: 24 * 3600_000, reserve: (b) => deps.inFlight.reserve(b) });
  setInterval(() => void uploads.deleteExpired().catch(() => {}), 10 * 60_000).unref();

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('etag', false);
  app.use(securityHeaders({ onionLocation: config.ONION_LOCATION }));
  app.use(healthRoutes(deps.keyring, deps.redisReady));
  app.use(pageRoutes(brand));
  app.use(abuseRoutes(deps.gate));
  app.use(uploadRoutes(uploads, config.MAX_FILE_BYTES, deps.log));
  app.use(tipRoutes({ ...deps, uploads }));
  app.use((req: Request, res: Response) => {
    sendError(req, res, langOf(req), new TipError(404, 'not_found'));
  });
  // Express's own error page would show a stack trace; ours says nothing about the cause.
  app.use((_err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return void res.end();
    sendError(req, res, langOf(req), new TipError(500, 'internal'));
  });
  return app;
}
