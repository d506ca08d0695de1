/**
 * Decides, without knowing who anyone is, whether a tip may go on. Three lanes, each with a global
 * budget per minute:
 *  - proof: an ALTCHA proof of work was solved (JavaScript on); the widest lane;
 *  - ticket: the no-JavaScript form's signed ticket, aged a few seconds (Tor Browser, Safest);
 *  - bare: neither (scripts, curl); a narrow lane, so a naive flood fills only itself.
 * A honeypot field that people never see catches the simplest bots; they are told "thank you" and
 * their tip is dropped, so they learn nothing.
 */
import { TipError } from '../../errors.ts';
import { MinuteBudget } from './budget.ts';
import { ProofOfWork } from './pow.ts';
import { TicketBook } from './ticket.ts';

export type Lane = 'proof' | 'ticket' | 'bare' | 'honeypot';

export interface GateLimits {
  tipsPerMinute: number;
  ticketTipsPerMinute: number;
  bareTipsPerMinute: number;
  ticketMinSeconds: number;
  powBaseCounter: number;
}

export const HONEYPOT_FIELD = 'website';
export const TICKET_FIELD = 'ticket';
export const POW_FIELD = 'altcha';

export class Busy extends TipError {
  constructor(seconds: number) {
    super(429, 'busy', { seconds });
  }
}

export class AbuseGate {
  readonly pow: ProofOfWork;
  readonly tickets: TicketBook;
  private readonly all: MinuteBudget;
  private readonly lanes: Record<'proof' | 'ticket' | 'bare', MinuteBudget>;

  constructor(secret: Buffer, private readonly limits: GateLimits, now: () => number = Date.now) {
    this.pow = new ProofOfWork(secret, limits.powBaseCounter);
    this.tickets = new TicketBook(secret, now);
    this.all = new MinuteBudget(limits.tipsPerMinute, now);
    this.lanes = {
      proof: this.all,
      ticket: new MinuteBudget(limits.ticketTipsPerMinute, now),
      bare: new MinuteBudget(limits.bareTipsPerMinute, now),
    };
  }

  /** A ticket for a freshly rendered form; the wait grows as the no-JS lane fills. */
  issueTicket(): string {
    const load = this.lanes.ticket.load();
    return this.tickets.issue(this.limits.ticketMinSeconds * (1 + 3 * load));
  }

  challenge() {
    return this.pow.challenge(this.all.load());
  }

  /** Throws a TipError (429 busy or wait, 400 for a failed proof) or says which lane admitted it. */
  async admit(fields: Record<string, string>): Promise<Lane> {
    if ((fields[HONEYPOT_FIELD] ?? '') !== '') return 'honeypot';
    let lane: 'proof' | 'ticket' | 'bare';
    if (fields[POW_FIELD]) {
      if (!(await this.pow.verify(fields[POW_FIELD]!))) throw new TipError(400, 'challenge_failed');
      lane = 'proof';
    } else if (fields[TICKET_FIELD]) {
      const t = this.tickets.check(fields[TICKET_FIELD]);
      if (t.reason === 'early') throw new TipError(429, 'wait', { seconds: t.wait ?? 1 });
      // An old, reused or forged ticket is treated as no ticket at all.
      lane = t.ok ? 'ticket' : 'bare';
    } else {
      lane = 'bare';
    }
    const budget = this.lanes[lane];
    if (lane !== 'proof' && !budget.take()) throw new Busy(budget.secondsToNextWindow());
    if (!this.all.take()) throw new Busy(this.all.secondsToNextWindow());
    return lane;
  }
}
