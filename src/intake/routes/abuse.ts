/** GET /altcha/challenge: a fresh proof-of-work challenge for the ALTCHA widget (JavaScript on). */
import { Router } from 'express';
import type { AbuseGate } from '../abuse/gate.ts';

export function abuseRoutes(gate: AbuseGate): Router {
  const r = Router();
  r.get('/altcha/challenge', async (_req, res, next) => {
    try {
      res.json(await gate.challenge());
    } catch (e) {
      next(e);
    }
  });
  return r;
}
