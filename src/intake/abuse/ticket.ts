/**
 * The no-JavaScript lane's challenge. Tor Browser at its Safest level runs no script, so it cannot
 * solve a proof of work; instead the form carries a signed, single-use ticket that is only good once
 * it has aged a few seconds (more under load). A person writing a tip takes longer than that anyway;
 * a script pays for every tip in waiting time, and the lane's global budget bounds it.
 *
 * The ticket holds a random id, the time it was issued and the wait, all under an HMAC: nothing
 * about the tipster. Used ids are remembered only until the ticket would have expired.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TicketCheck {
  ok: boolean;
  /** Seconds still to wait, when the ticket is too fresh. */
  wait?: number;
  reason?: 'missing' | 'invalid' | 'expired' | 'used' | 'early';
}

const LIFETIME_MS = 24 * 3600_000;

export class TicketBook {
  private readonly used = new Map<string, number>();

  constructor(private readonly secret: Buffer, private readonly now: () => number = Date.now) {}

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }

  issue(waitSeconds: number): string {
    const body = `${randomBytes(12).toString('base64url')}.${this.now()}.${Math.ceil(waitSeconds)}`;
    return `${body}.${this.sign(body)}`;
  }

  check(ticket: string | undefined): TicketCheck {
    if (!ticket) return { ok: false, reason: 'missing' };
    const parts = ticket.split('.');
    if (parts.length !== 4) return { ok: false, reason: 'invalid' };
    const [id, issued, wait, mac] = parts as [string, string, string, string];
    const expected = Buffer.from(this.sign(`${id}.${issued}.${wait}`));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'invalid' };
    const age = this.now() - Number(issued);
    if (age > LIFETIME_MS) return { ok: false, reason: 'expired' };
    const waitMs = Number(wait) * 1000;
    if (age < waitMs) return { ok: false, reason: 'early', wait: Math.ceil((waitMs - age) / 1000) };
    this.forgetOld();
    if (this.used.has(id)) return { ok: false, reason: 'used' };
    this.used.set(id, Number(issued));
    return { ok: true };
  }

  private forgetOld(): void {
    const cutoff = this.now() - LIFETIME_MS;
    for (const [id, issued] of this.used) {
      if (issued >= cutoff) break;
      this.used.delete(id);
    }
  }
}
