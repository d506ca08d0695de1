/** Liveness and readiness for operators; they say nothing about tips. */
import { Router } from 'express';
import type { Keyring } from '../../crypto/keyring.ts';

export function healthRoutes(keyring: Keyring, redisReady: () => Promise<boolean>): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  r.get('/readyz', async (_req, res) => {
    const redis = await redisReady();
    const body = { redis, keyring: keyring.editors.length > 0, demoKeys: keyring.demo };
    const warning = keyring.demo ? 'DEMO KEYS: generated demo editor key in use; not for real tips' : undefined;
    res.status(redis ? 200 : 503).json(warning ? { ...body, warning } : body);
  });
  return r;
}
