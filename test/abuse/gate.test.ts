import { test } from 'node:test';
import assert from 'node:assert/strict';
import { solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { AbuseGate } from '../../src/intake/abuse/gate.ts';
import { TipError } from '../../src/errors.ts';

function gate(now: () => number, over: Partial<ConstructorParameters<typeof AbuseGate>[1]> = {}) {
  return new AbuseGate(Buffer.from('0123456789abcdef0123456789abcdef'), {
    tipsPerMinute: 100, ticketTipsPerMinute: 3, bareTipsPerMinute: 2, ticketMinSeconds: 10, powBaseCounter: 50, ...over,
  }, now);
}

async function solved(g: AbuseGate): Promise<string> {
  const challenge = await g.challenge();
  const solution = await solveChallenge({ challenge, deriveKey });
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

test('a bare request (no proof, no ticket) is held to the narrow bare budget, then told how long to wait', async () => {
  const g = gate(() => 1_000_000);
  assert.equal(await g.admit({}), 'bare');
  assert.equal(await g.admit({}), 'bare');
  await assert.rejects(g.admit({}), (e: TipError) => e.status === 429 && e.code === 'busy' && Number(e.params.seconds) > 0);
});

test('a no-JavaScript ticket is refused while too fresh, then admitted once, and a reused ticket falls to the bare lane', async () => {
  let now = 5_000_000;
  const g = gate(() => now, { bareTipsPerMinute: 0 });
  const ticket = g.issueTicket();
  await assert.rejects(g.admit({ ticket }), (e: TipError) => e.status === 429 && e.code === 'wait' && e.params.seconds === 10);
  now += 10_000;
  assert.equal(await g.admit({ ticket }), 'ticket');
  await assert.rejects(g.admit({ ticket }), (e: TipError) => e.code === 'busy');
});

test('a forged ticket is no ticket', async () => {
  let now = 5_000_000;
  const g = gate(() => now);
  const ticket = g.issueTicket();
  now += 60_000;
  const forged = ticket.replace(/\.\d+\./, '.1.');
  assert.equal(await g.admit({ ticket: forged }), 'bare');
});

test('the wait on new tickets grows as the no-JS lane fills', async () => {
  let now = 5_000_000;
  const g = gate(() => now);
  const first = g.issueTicket();
  now += 10_000;
  await g.admit({ ticket: first });
  const later = g.issueTicket();
  assert.ok(Number(later.split('.')[2]) > 10);
});

test('a solved proof of work is admitted once; a replay or a garbage proof gets 400', async () => {
  const g = gate(() => Date.now());
  const proof = await solved(g);
  assert.equal(await g.admit({ altcha: proof }), 'proof');
  await assert.rejects(g.admit({ altcha: proof }), (e: TipError) => e.status === 400 && e.code === 'challenge_failed');
  await assert.rejects(g.admit({ altcha: 'bm9wZQ==' }), (e: TipError) => e.code === 'challenge_failed');
});

test('the honeypot field, which people never see, marks a bot', async () => {
  const g = gate(() => Date.now());
  assert.equal(await g.admit({ website: 'http://spam.example' }), 'honeypot');
});

test('the overall budget holds every lane', async () => {
  const g = gate(() => 9_000_000, { tipsPerMinute: 2, bareTipsPerMinute: 10 });
  await g.admit({});
  await g.admit({});
  await assert.rejects(g.admit({}), (e: TipError) => e.code === 'busy');
});
