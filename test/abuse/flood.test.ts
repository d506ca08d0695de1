import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import { solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { startService, type TestService } from '../support/service.ts';

let svc: TestService;
let server: Server;
let base: string;

before(async () => {
  svc = await startService({
    worker: false,
    env: { TIPS_PER_MINUTE: '100', BARE_TIPS_PER_MINUTE: '5', NOJS_TIPS_PER_MINUTE: '10', NOJS_MIN_SECONDS: '1', POW_BASE_COUNTER: '20' },
  });
  server = svc.intake.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.close();
  await svc.stop();
});

function ticketFrom(html: string): string {
  const m = /name="ticket" value="([^"]+)"/.exec(html);
  assert.ok(m, 'the form carries a ticket');
  return m[1]!;
}

test('a script sending 10,000 spam tips is held to the budget, while a real tipster without JavaScript and one with it still get through', async () => {
  // The real no-JS tipster opens the form before the flood starts, and writes for a while.
  const form = await request(svc.intake.app).get('/?lang=en').expect(200);
  const ticket = ticketFrom(form.text);

  const statuses = new Map<number, number>();
  let next = 0;
  const spam = async () => {
    while (next < 10_000) {
      next++;
      const body = new FormData();
      body.set('note', `BUY CHEAP ${next}`);
      const r = await fetch(`${base}/tips`, { method: 'POST', body, headers: { Accept: 'application/json' } });
      await r.arrayBuffer();
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
  };
  const firstMinute = Math.floor(Date.now() / 60_000);
  const flood = Promise.all(Array.from({ length: 32 }, spam));

  await new Promise((r) => setTimeout(r, 1200));
  const noJs = await request(svc.intake.app).post('/tips?lang=en').field('ticket', ticket).field('note', 'Real tip, sent without JavaScript').expect(201);
  assert.match(noJs.text, /\d{4}-\d{4}-\d{4}-\d{4}/);

  const challenge = (await request(svc.intake.app).get('/altcha/challenge').expect(200)).body;
  const solution = await solveChallenge({ challenge, deriveKey });
  const altcha = Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
  await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('altcha', altcha).field('note', 'Real tip, with JavaScript').expect(201);

  await flood;
  // The budget is per clock minute, and the flood (~15 s alone) may span several on a loaded
  // machine, each with its own 5: the bound counts the minutes it touched.
  const minutes = Math.floor(Date.now() / 60_000) - firstMinute + 1;
  const accepted = statuses.get(201) ?? 0;
  assert.equal((statuses.get(429) ?? 0) + accepted, 10_000, `only 201 and 429: ${JSON.stringify([...statuses])}`);
  assert.ok(accepted <= 5 * minutes, `spam accepted: ${accepted} over ${minutes} clock minutes`);
  const tips = readdirSync(join(svc.config.UPLOADS_DIR, 'tips')).length;
  assert.equal(tips, accepted + 2);
  // The service is still up.
  await request(svc.intake.app).get('/healthz').expect(200);
});

test('a busy refusal keeps the typed note in the form and says when to try again, in Spanish by default', async () => {
  const res = await request(svc.intake.app).post('/tips').field('note', 'Mi nota larga que no quiero perder').expect(429);
  assert.ok(Number(res.headers['retry-after']) > 0);
  assert.match(res.text, /Mi nota larga que no quiero perder/);
  assert.match(res.text, /Vuelve a enviar en \d+ segundos/);
});

test('a ticket used too early gets a wait, with the note kept; a honeypot tip is thanked and dropped', async () => {
  const form = await request(svc.intake.app).get('/?lang=en').expect(200);
  const res = await request(svc.intake.app).post('/tips?lang=en').field('ticket', ticketFrom(form.text)).field('note', 'too quick').expect(429);
  assert.match(res.text, /Please wait \d+ more seconds/);
  assert.match(res.text, /too quick/);

  const before = readdirSync(join(svc.config.UPLOADS_DIR, 'tips')).length;
  const challenge = (await request(svc.intake.app).get('/altcha/challenge').expect(200)).body;
  const solution = await solveChallenge({ challenge, deriveKey });
  const altcha = Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
  const bot = await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('altcha', altcha).field('website', 'http://spam.example').field('note', 'bot').expect(201);
  assert.match(bot.body.receipt, /^\d{4}-/);
  assert.equal(readdirSync(join(svc.config.UPLOADS_DIR, 'tips')).length, before);
});
