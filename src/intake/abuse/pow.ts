/**
 * ALTCHA proof of work, for tipsters with JavaScript on: the browser spends a second or two of CPU
 * per tip, which a spam script must pay thousands of times. The work rises with the load on the
 * lane. Challenges are signed with a secret held in memory, and a solved one is accepted once.
 */
import { CappedMap, createChallenge, randomInt, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { verify } from 'altcha-lib/frameworks/shared';

const ALGORITHM = 'PBKDF2/SHA-256';
const COST = 1_000;

export class ProofOfWork {
  private readonly used = new CappedMap<string, boolean>({ maxSize: 100_000 });
  private readonly hmacSecret: string;
  private readonly keySecret: string;

  constructor(secret: Buffer, private readonly baseCounter: number) {
    this.hmacSecret = secret.toString('hex') + ':pow';
    this.keySecret = secret.toString('hex') + ':pow-key';
  }

  /** load in 0..1: at full load a challenge takes up to eight times the work. */
  challenge(load: number): Promise<Challenge> {
    const top = Math.round(this.baseCounter * (1 + 7 * Math.min(1, Math.max(0, load))));
    return createChallenge({
      algorithm: ALGORITHM,
      cost: COST,
      counter: randomInt(Math.floor(top / 2), top),
      deriveKey,
      hmacSignatureSecret: this.hmacSecret,
      hmacKeySignatureSecret: this.keySecret,
      expiresAt: new Date(Date.now() + 24 * 3600_000),
    });
  }

  async verify(payload: string): Promise<boolean> {
    const r = await verify(payload, deriveKey, this.hmacSecret, this.keySecret, this.used);
    return r.error === null && r.verification?.verified === true;
  }
}
