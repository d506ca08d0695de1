/**
 * What every hostile case asserts, in one place: a clear 4xx with its code and a message in the
 * tipster's language; nothing partial kept (vault, drafts, scratch, queue); the service still takes
 * a normal tip; and the process's memory stayed bounded while the case ran.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import * as openpgp from 'openpgp';
import { join } from 'node:path';
import request from 'supertest';
import { Queue } from 'bullmq';
import { startService, type TestService } from '../support/service.ts';
import { CATALOGS } from '../../src/intake/i18n/index.ts';

export type Lang = 'es' | 'en';

export interface Expected {
  status: number;
  code: string;
  /** Spanish unless the case asked for English (?lang=en or Accept-Language). */
  lang?: Lang;
}

export interface Got {
  status: number;
  body: unknown;
}

/** Generous: the point is "bounded", not "small"; a decoder bomb that goes through would cost GiBs. */
export const RSS_BOUND = 300 * 1024 * 1024;

export interface Hostile {
  svc: TestService;
  queue: Queue;
  nothingKept(): Promise<void>;
  stillUp(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHostile(env: Record<string, string> = {}): Promise<Hostile> {
  const svc = await startService({ worker: false, env });
  const queue = new Queue('tips', { connection: { host: '127.0.0.1', port: svc.redis.port } });
  const tipsDir = join(svc.config.UPLOADS_DIR, 'tips');
  const h: Hostile = {
    svc,
    queue,
    async nothingKept() {
      assert.deepEqual(readdirSync(tipsDir), [], 'a tip reached the vault');
      assert.deepEqual(readdirSync(join(svc.config.UPLOADS_DIR, '.drafts')), [], 'a draft was left');
      assert.deepEqual(readdirSync(svc.config.SCRATCH_DIR), [], 'plaintext was left in scratch');
      const counts = await queue.getJobCounts();
      assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), 0, 'a job was queued');
    },
    async stillUp() {
      await request(svc.intake.app).get('/healthz').expect(200);
      const ok = await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', 'una pista normal').expect(201);
      assert.match(String((ok.body as { receipt?: string }).receipt), /\S/);
      // Leave the vault and the queue empty again for the next case's nothingKept().
      for (const t of readdirSync(tipsDir)) rmSync(join(tipsDir, t), { recursive: true, force: true });
      await queue.obliterate({ force: true });
    },
    async stop() {
      await queue.close();
      await svc.stop();
    },
  };
  return h;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The catalog message for `code` in `lang`, as a pattern: {params} match anything. */
export function messagePattern(lang: string, code: string): RegExp {
  const template = CATALOGS[lang]?.[`error.${code}` as keyof (typeof CATALOGS)[string]];
  assert.ok(template, `no message for ${code} in ${lang}`);
  return new RegExp('^' + escapeRe(template).replace(/\\\{\w+\\\}/g, '[\\s\\S]*') + '$');
}

/** Status, code, and a message that is the catalog's, in the tipster's language and not the other. */
export function assertRefusal(got: Got, want: Expected): string {
  const body = got.body as { error?: { code?: unknown; message?: unknown } } | undefined;
  const code = body?.error?.code;
  assert.equal(got.status, want.status, `status ${got.status} (code ${String(code)}), wanted ${want.status} ${want.code}`);
  assert.equal(code, want.code);
  const message = String(body?.error?.message ?? '');
  const lang = want.lang ?? 'es';
  assert.match(message, messagePattern(lang, want.code), `message not in ${lang}: ${message}`);
  const other = lang === 'es' ? 'en' : 'es';
  assert.doesNotMatch(message, messagePattern(other, want.code), `message in ${other}: ${message}`);
  return message;
}

/** Runs `fn` while sampling RSS; fails if the peak rose more than RSS_BOUND over the start. */
export async function withinMemory<T>(fn: () => Promise<T>): Promise<T> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 25);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.ok(peak - start < RSS_BOUND, `RSS rose by ${Math.round((peak - start) / 2 ** 20)} MiB`);
  }
}

/**
 * The four assertions around one hostile request. `send` returns the response (supertest's or a raw
 * socket's); the refusal is checked, then that nothing was kept, then that a normal tip still goes in.
 */
export async function expectRefused(h: Hostile, want: Expected, send: () => Promise<Got>): Promise<string> {
  const got = await withinMemory(send);
  const message = assertRefusal(got, want);
  await h.nothingKept();
  await h.stillUp();
  return message;
}

/** A POST /tips asking for JSON, in the given language. */
export function postTip(h: Hostile, lang: Lang = 'es'): request.Test {
  return request(h.svc.intake.app).post(lang === 'en' ? '/tips?lang=en' : '/tips').set('Accept', 'application/json');
}

/**
 * For hostile files whose safe outcome is to be cleaned, not refused (a polyglot whose extra part the
 * re-encode drops): 201, bounded memory, no plaintext left in scratch. `inspect` gets the delivered
 * files, decrypted with the demo editor's key. The vault and queue are emptied for the next case.
 */
export async function expectCleaned(h: Hostile, send: () => Promise<Got>, inspect?: (files: Buffer[]) => void): Promise<void> {
  const got = await withinMemory(send);
  assert.equal(got.status, 201, `status ${got.status}: ${JSON.stringify(got.body)}`);
  assert.deepEqual(readdirSync(h.svc.config.SCRATCH_DIR), [], 'plaintext was left in scratch');
  assert.deepEqual(readdirSync(join(h.svc.config.UPLOADS_DIR, '.drafts')), [], 'a draft was left');
  if (inspect) inspect(await deliveredFiles(h));
  await h.stillUp();
}

/** The files of the one tip in the vault, decrypted with the demo editor's secret key. */
export async function deliveredFiles(h: Hostile): Promise<Buffer[]> {
  const tips = readdirSync(join(h.svc.config.UPLOADS_DIR, 'tips'));
  assert.equal(tips.length, 1, 'one tip in the vault');
  const dir = join(h.svc.config.UPLOADS_DIR, 'tips', tips[0]!);
  const demo = h.svc.config.DEMO_KEY_DIR;
  const key = await openpgp.decryptKey({
    privateKey: await openpgp.readPrivateKey({ armoredKey: readFileSync(join(demo, 'private.asc'), 'utf8') }),
    passphrase: readFileSync(join(demo, 'passphrase.txt'), 'utf8').trim(),
  });
  const out: Buffer[] = [];
  for (const name of readdirSync(dir).filter((n) => /^file-\d+\.pgp$/.test(n)).sort()) {
    const message = await openpgp.readMessage({ binaryMessage: readFileSync(join(dir, name)) });
    const { data } = await openpgp.decrypt({ message, decryptionKeys: key, format: 'binary' });
    out.push(Buffer.from(data));
  }
  return out;
}
