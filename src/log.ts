/**
 * Our only logger. It is never handed a request: no address, no header, no URL with a query, no
 * note, no filename, no content type ever reaches it. Log lines say what happened to a tip by its
 * opaque id, which is what an adversary who seizes the logs would learn, and nothing more.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export function createLog(level: string, name: string, dest?: DestinationStream): Logger {
  return pino({
    level,
    name,
    base: undefined,
    // Minute precision: exact times help correlate a tip with network traffic.
    timestamp: () => `,"time":"${new Date().toISOString().slice(0, 16)}Z"`,
  }, dest ?? pino.destination(1));
}

/** What of an error may be logged: its type, never its message, which can quote a path or a tipster's bytes. */
export function errorType(e: unknown): string {
  return e instanceof Error ? e.name : 'unknown';
}
