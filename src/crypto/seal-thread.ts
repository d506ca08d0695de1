/**
 * Seals small payloads (every tip's manifest) on a thread of its own, with the same openpgp.js call
 * and settings as sealBytes() in seal.ts.
 *
 * Why: a note-only tip's manifest seal cost the intake's event loop ~0.9 ms, most of it openpgp.js's
 * way to Curve25519 (five WebCrypto steps with JWK conversions per editor) and its check of every
 * key's binding signatures per message. With one event loop for every tipster, that alone held
 * note-only tips near 350/s (BENCHMARKS.md, round 5). Here the loop only posts the bytes and
 * receives the sealed message.
 *
 * The thread runs plain JavaScript that loads openpgp.js and nothing else: not tsx, which costs a
 * thread ~40 MiB (seal-worker.ts); this one adds a few MiB. Plaintext crosses only memory, never a
 * file. If the thread dies, the tips it held fail (their tipsters get the usual error and keep
 * their note in the form) and the next seal starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import type * as openpgp from 'openpgp';
import { SEAL_CONFIG, dayOf } from './seal.ts';

type Reply = { id: number; sealed: Uint8Array } | { id: number; error: string };

/** Keep in step with sealBytes() in seal.ts: the tests decrypt both with gpg and compare packets. */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ready = import(workerData.openpgp).then(async (openpgp) => {
  const keys = await Promise.all(workerData.keys.map((armoredKey) => openpgp.readKey({ armoredKey })));
  return { openpgp, keys };
});
parentPort.on('message', async ({ id, data, filename, date }) => {
  try {
    const { openpgp, keys } = await ready;
    const message = await openpgp.createMessage({ binary: data, format: 'binary', filename, date: new Date(date) });
    const sealed = await openpgp.encrypt({ message, encryptionKeys: keys, format: 'binary', config: workerData.config });
    // Moved, not copied, when the message owns its whole buffer; a view into a shared one is copied.
    const whole = sealed.byteOffset === 0 && sealed.byteLength === sealed.buffer.byteLength;
    parentPort.postMessage({ id, sealed }, whole ? [sealed.buffer] : []);
  } catch (e) {
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
`;

interface Running {
  worker: Worker;
  /** The tips this thread holds: if it dies, only they fail. */
  pending: Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>;
}

export class SealThread {
  private running: Running | undefined;
  private nextId = 1;
  private readonly armored: string[];
  private closed = false;

  constructor(keys: openpgp.PublicKey[]) {
    this.armored = keys.map((k) => k.armor());
  }

  /** An OpenPGP message of `data` for every editor, with `filename` and only the day in its literal packet. */
  seal(data: Uint8Array, filename: string): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('seal thread closed'));
    const { worker, pending } = this.running ?? this.start();
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      // A copy goes to the thread (structured clone); the caller's buffer stays the caller's.
      worker.postMessage({ id, data, filename, date: dayOf(new Date()).getTime() });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const r = this.running;
    this.running = undefined;
    if (r) {
      await r.worker.terminate();
      fail(r, new Error('seal thread closed'));
    }
  }

  private start(): Running {
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { keys: this.armored, config: SEAL_CONFIG, openpgp: import.meta.resolve('openpgp') },
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 64 },
    });
    const r: Running = { worker, pending: new Map() };
    // The intake's own shutdown closes it; an idle thread must not keep a finished process alive.
    worker.unref();
    worker.on('message', (m: Reply) => {
      const p = r.pending.get(m.id);
      if (!p) return;
      r.pending.delete(m.id);
      if ('error' in m) p.reject(new Error(`seal failed: ${m.error}`));
      else p.resolve(m.sealed);
    });
    const gone = (e: Error) => {
      if (this.running === r) this.running = undefined;
      fail(r, e);
    };
    worker.on('error', (e) => gone(e instanceof Error ? e : new Error(String(e))));
    worker.on('exit', (code) => gone(new Error(`seal thread exited (${code})`)));
    this.running = r;
    return r;
  }
}

function fail(r: Running, e: Error): void {
  for (const p of r.pending.values()) p.reject(e);
  r.pending.clear();
}
