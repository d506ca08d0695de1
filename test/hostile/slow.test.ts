/**
 * Slow clients, over a raw socket against a real listening server on 127.0.0.1. The server gets the
 * same server as src/intake/main.ts (no total cap, a headers deadline, an idle cut), with timeouts
 * shorter, so a test takes seconds. A slow but steady upload is never cut (Tor); a stalled one is, and
 * whatever it had written to scratch goes with it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { createIntakeServer } from '../../src/intake/server.ts';
import { connect, type Socket, type AddressInfo } from 'node:net';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHostile, assertRefusal, withinMemory, type Hostile } from './harness.ts';
import { multipart, realJpeg } from './craft.ts';

const HEADERS_MS = 1000;
const IDLE_MS = 1500;

let h: Hostile;
let server: Server;
let port: number;
before(async () => {
  h = await startHostile();
  // The server main.ts runs, with its timeouts scaled down so a test takes seconds.
  server = createIntakeServer(h.svc.intake.app, { headersMs: HEADERS_MS, idleMs: IDLE_MS, checkMs: 100 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await h.stop();
});

interface Conn { socket: Socket; closed: Promise<{ ms: number; data: string }> }

function open(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, closed }));
    let data = '';
    socket.on('data', (b: Buffer) => { data += b.toString('latin1'); });
    socket.on('error', () => {});
    const closed = new Promise<{ ms: number; data: string }>((r) => socket.on('close', () => r({ ms: Date.now() - t0, data })));
    socket.once('error', reject);
  });
}

/** Waits (bounded) for scratch to be empty again, then asserts nothing at all was kept. */
async function nothingKeptSoon(): Promise<void> {
  for (let i = 0; i < 50 && readdirSync(h.svc.config.SCRATCH_DIR).length > 0; i++) await sleep(100);
  await h.nothingKept();
}

function parseResponse(raw: string): { status: number; body: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  let json: unknown;
  try { json = JSON.parse(body); } catch { json = undefined; }
  return { status, body: json };
}

function tipHead(length: number, contentType: string): string {
  return `POST /tips?lang=en HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\n\r\n`;
}

test('slowloris headers (one header line every 300 ms) are cut at the headers deadline with 408', async () => {
  await withinMemory(async () => {
    const c = await open();
    c.socket.write('POST /tips HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    for (let i = 0; i < 12 && !c.socket.destroyed; i++) {
      c.socket.write(`X-Slow-${i}: ${'a'.repeat(10)}\r\n`);
      await sleep(300);
    }
    const { ms, data } = await c.closed;
    assert.ok(ms < HEADERS_MS + 2500, `closed after ${ms} ms`);
    assert.match(data, /^HTTP\/1\.1 408/);
  });
  await nothingKeptSoon();
  await h.stillUp();
});

test('a connection that opens and sends nothing is cut at the headers deadline', async () => {
  const c = await open();
  const { ms } = await c.closed;
  assert.ok(ms < IDLE_MS + 2500, `closed after ${ms} ms`);
  await h.stillUp();
});

test('a slow but steady body (a byte every 200 ms, longer than the idle cut in all) is not cut and is accepted', async () => {
  const { body, contentType } = multipart([{ name: 'note', data: 'despacio pero seguro' }]);
  const c = await open();
  c.socket.write(tipHead(body.length, contentType));
  const head = body.subarray(0, body.length - 12);
  c.socket.write(head);
  for (const byte of body.subarray(head.length)) {
    await sleep(200);
    c.socket.write(Buffer.from([byte]));
  }
  // The answer comes once the last byte is in; then we close our side.
  for (let i = 0; i < 50 && c.socket.bytesRead === 0; i++) await sleep(100);
  await sleep(200);
  c.socket.end();
  const { data } = await c.closed;
  assert.equal(parseResponse(data).status, 201, data.slice(0, 200));
  await h.stillUp();
});

test('a stalled upload (half a photo, then silence) is cut at the idle deadline and its scratch file removed', async () => {
  const jpeg = await realJpeg();
  const { body, contentType } = multipart([{ name: 'note', data: 'se cuelga' }, { name: 'files', filename: 'a.jpg', data: Buffer.concat([jpeg, Buffer.alloc(200_000, 1)]) }]);
  await withinMemory(async () => {
    const c = await open();
    c.socket.write(tipHead(body.length, contentType));
    c.socket.write(body.subarray(0, body.length >> 1));
    await sleep(300);
    assert.equal(readdirSync(h.svc.config.SCRATCH_DIR).length, 1, 'the upload was being written to scratch');
    const { ms } = await c.closed;
    assert.ok(ms >= IDLE_MS && ms < IDLE_MS + 2500, `closed after ${ms} ms`);
  });
  await nothingKeptSoon();
  await h.stillUp();
});

test('headers that promise a body that never comes are cut at the idle deadline', async () => {
  const c = await open();
  c.socket.write(tipHead(1_000_000, 'multipart/form-data; boundary=x'));
  const { ms } = await c.closed;
  assert.ok(ms >= IDLE_MS && ms < IDLE_MS + 2500, `closed after ${ms} ms`);
  await nothingKeptSoon();
  await h.stillUp();
});

test('an upload the client closes half-way is dropped whole: nothing is kept', async () => {
  const { body, contentType } = multipart([{ name: 'note', data: 'corto' }, { name: 'files', filename: 'b.jpg', data: Buffer.alloc(300_000, 2) }]);
  const c = await open();
  c.socket.write(tipHead(body.length, contentType));
  c.socket.write(body.subarray(0, body.length >> 1));
  await sleep(200);
  c.socket.end();
  const { data } = await c.closed;
  // If the server could still answer before the socket went, it answered upload_interrupted.
  // Node's parser answers a body cut short by FIN with a bare 400 before our route can; if our route
  // answered first, it said upload_interrupted.
  const got = parseResponse(data);
  assert.equal(got.status, 400, data.slice(0, 200));
  if (got.body !== undefined) assertRefusal(got, { status: 400, code: 'upload_interrupted', lang: 'en' });
  await nothingKeptSoon();
  await h.stillUp();
});

test('an upload reset by the client (TCP RST) mid-file is dropped whole: nothing is kept', async () => {
  const { body, contentType } = multipart([{ name: 'files', filename: 'c.jpg', data: Buffer.alloc(500_000, 3) }]);
  const c = await open();
  c.socket.write(tipHead(body.length, contentType));
  c.socket.write(body.subarray(0, 300_000));
  await sleep(200);
  c.socket.resetAndDestroy();
  await c.closed;
  await nothingKeptSoon();
  await h.stillUp();
});

test('a body shorter than its Content-Length, then silence, is cut and nothing is kept', async () => {
  const { body, contentType } = multipart([{ name: 'note', data: 'falta' }]);
  const c = await open();
  c.socket.write(tipHead(body.length + 5000, contentType));
  c.socket.write(body);
  const { ms } = await c.closed;
  assert.ok(ms >= IDLE_MS && ms < IDLE_MS + 2500, `closed after ${ms} ms`);
  await nothingKeptSoon();
  await h.stillUp();
});
