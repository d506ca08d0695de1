/**
 * The tipster-facing HTTP app. It never reads the client's address or sets a cookie, and it logs no
 * request: what reaches the log is a tip's opaque id and outcome.
 */
import express, { type Request, type Response } from 'express';
import { TipError } from '../errors.ts';
import { healthRoutes } from './routes/health.ts';
import { pageRoutes } from './routes/pages.ts';
import { tipRoutes, type TipRouteDeps } from './routes/tips.ts';
import { sendError } from './respond.ts';
import { langOf } from './lang.ts';

export interface IntakeDeps extends TipRouteDeps {
  /** Resolves true when Redis answers; used by /readyz. */
  redisReady: () => Promise<boolean>;
}

export function createApp(deps: IntakeDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('etag', false);
  app.use(healthRoutes(deps.keyring, deps.redisReady));
  app.use(pageRoutes());
  app.use(tipRoutes(deps));
  app.use((req: Request, res: Response) => {
    sendError(req, res, langOf(req), new TipError(404, 'not_found'));
  });
  return app;
}
