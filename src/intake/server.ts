/**
 * The intake's HTTP server, with timeouts sized for Tor: an honest upload may take an hour, so there
 * is no cap on a request's total time; only a connection that stalls is cut. Slow headers
 * (slowloris) are cut after headersMs, checked every few seconds rather than Node's default 30 s.
 */
import { createServer, type Server, type RequestListener } from 'node:http';

export interface Timeouts {
  headersMs: number;
  idleMs: number;
  /** How often Node looks for connections past the headers deadline. */
  checkMs: number;
}

export const TOR_TIMEOUTS: Timeouts = { headersMs: 60_000, idleMs: 120_000, checkMs: 5_000 };

export function createIntakeServer(app: RequestListener, t: Timeouts = TOR_TIMEOUTS): Server {
  const server = createServer({ connectionsCheckingInterval: t.checkMs, requestTimeout: 0, headersTimeout: t.headersMs }, app);
  server.setTimeout(t.idleMs);
  return server;
}
