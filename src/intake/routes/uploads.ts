/**
 * /uploads: the tus endpoint the script uses for resumable uploads (creation, PATCH, HEAD, DELETE).
 * No CORS: the form and the endpoint share an origin, so no other site's page may read from it.
 */
import { Router, type Request, type Response } from 'express';
import { Server, MemoryLocker } from '@tus/server';
import type { Logger } from 'pino';
import { newUploadId, type PartialStore } from '../tus/partial-store.ts';
import { errorType } from '../../log.ts';

export function uploadRoutes(store: PartialStore, maxFileBytes: number, log: Logger): Router {
  const tus = new Server({
    path: '/uploads',
    datastore: store,
    locker: new MemoryLocker(),
    maxSize: maxFileBytes,
    relativeLocation: true,
    respectForwardedHeaders: false,
    allowedOrigins: () => false,
    namingFunction: () => newUploadId(),
    disableTerminationForFinishedUploads: false,
  });
  const r = Router();
  const handle = (req: Request, res: Response) => {
    // A rejection would otherwise crash the intake and print the error whole (headers, upload
    // metadata with the file's name) to stderr, past the log's error-type-only rule.
    tus.handle(req, res).catch((e: unknown) => {
      log.error({ err: { type: errorType(e) } }, 'upload request failed');
      if (!res.headersSent) res.status(500).end();
      else res.destroy();
    });
  };
  r.all('/uploads', handle);
  r.all('/uploads/:id', handle);
  return r;
}
