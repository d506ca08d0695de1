import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { startService, type TestService } from '../support/service.ts';
import { makeEditor, gpgDecrypt, type GpgEditor } from '../support/gpg.ts';
import { waitForInbox } from '../support/wait.ts';
import { HIDDEN, ffmpeg, workdir } from '../sanitize/media-fixtures.ts';
import { earlyCounts } from '../../src/intake/early-seal.ts';
import { cleanVideo } from '../../src/sanitize/video.ts';

// A fast-start MP4 sent first in a tip is remuxed and sealed while it uploads (video-early.ts). These
// check, through the whole service, that editors then get the very bytes the ordinary cleaning
// makes, and that whatever the check refuses, or the upload never finishes, leaves nothing behind.

let svc: TestService;
let editor: GpgEditor;
let server: Server;
const w = workdir();
const ISO6709 = '+31.7619-106.4850/';

before(async () => {
  editor = makeEditor('cv25519');
  svc = await startService({ editors: [editor.publicKey], env: { BULK_SEALER: 'gpg' } });
  server = svc.intake.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
});
after(async () => {
  server.close();
  await svc.stop();
  w.remove();
  rmSync(editor.home, { recursive: true, force: true });
});

/** A noisy clip of a few MiB, so the upload outlasts the moov and the probe's first MiB. */
function clip(name: string, codec: 'libx264' | 'libx265', faststart: boolean): string {
  const path = w.file(name);
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25,noise=alls=40:allf=t', '-f', 'lavfi', '-i', 'sine=sample_rate=44100', '-t', '3',
    '-c:v', codec, '-preset', 'ultrafast', ...(codec === 'libx265' ? ['-x265-params', 'log-level=none', '-tag:v', 'hvc1'] : ['-qp', '10']),
    '-c:a', 'aac', '-metadata', `location=${ISO6709}`, ...(faststart ? ['-movflags', '+faststart'] : []), path);
  return path;
}

/** What the ordinary cleaning (from scratch, after the upload) makes of the same file. */
async function ordinary(path: string): Promise<{ bytes: Buffer; removed: Record<string, number> }> {
  const copy = w.file(`copy-${Date.now()}.mp4`);
  copyFileSync(path, copy);
  const c = await cleanVideo(copy, { ext: 'mp4', mime: 'video/mp4' }, w.scratch);
  const bytes = readFileSync(c.path);
  rmSync(c.path);
  rmSync(copy);
  return { bytes, removed: c.report.removed };
}

async function send(path: string): Promise<{ clean: Buffer; manifest: { files: Array<{ removed: Record<string, number>; size: number }> } }> {
  await request(svc.intake.app).post('/tips').set('Accept', 'application/json').attach('files', path).expect(201);
  const tip = (await waitForInbox(svc.config.INBOX_DIR))[0]!;
  const clean = gpgDecrypt(editor, join(tip, 'file-1.pgp'));
  const manifest = JSON.parse(gpgDecrypt(editor, join(tip, 'manifest.json.pgp')).toString());
  rmSync(tip, { recursive: true, force: true });
  return { clean, manifest };
}

function vaultEmpty(): void {
  const uploads = svc.config.UPLOADS_DIR;
  assert.deepEqual(readdirSync(join(uploads, '.drafts')), [], 'no draft is left');
  assert.deepEqual(readdirSync(join(uploads, 'tips')), [], 'nothing was committed');
}

async function noFfmpegLeft(): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).status === 1) return;
    await sleep(100);
  }
  assert.fail('an ffmpeg started during the upload is still running');
}

for (const codec of ['libx264', 'libx265'] as const) {
  test(`a fast-start ${codec} MP4 is remuxed while it uploads, and editors get the very bytes the ordinary cleaning makes`, async () => {
    const src = clip(`fast-${codec}.mp4`, codec, true);
    const kept = earlyCounts.kept;
    const { clean, manifest } = await send(src);
    assert.equal(earlyCounts.kept, kept + 1, 'the streamed remux was kept');
    const want = await ordinary(src);
    assert.ok(clean.equals(want.bytes), 'the same bytes as the ordinary cleaning');
    assert.deepEqual(manifest.files[0]!.removed, want.removed);
    assert.equal(manifest.files[0]!.size, clean.length);
    assert.ok((want.removed.sei ?? 0) > 0, 'the encoder SEI was there to remove');
    for (const marker of [ISO6709, codec === 'libx265' ? 'x265' : 'x264', 'Lavf']) {
      assert.equal(clean.includes(Buffer.from(marker, 'latin1')), false, `${marker} survived`);
    }
  });
}

test('a fast-start MP4 with a box after its data: the early remux is dropped and the file is cleaned as usual', async () => {
  const src = clip('trailing.mp4', 'libx264', true);
  const uuid = Buffer.alloc(8 + 16 + HIDDEN.length);
  uuid.writeUInt32BE(uuid.length, 0);
  uuid.write('uuid', 4, 'latin1');
  HIDDEN.copy(uuid, 24);
  writeFileSync(src, Buffer.concat([readFileSync(src), uuid]));
  const [started, kept] = [earlyCounts.started, earlyCounts.kept];
  const { clean } = await send(src);
  assert.deepEqual([earlyCounts.started, earlyCounts.kept], [started + 1, kept], 'started, then not kept');
  assert.ok(clean.equals((await ordinary(src)).bytes), 'what the ordinary cleaning makes');
  assert.equal(clean.includes(HIDDEN), false);
  vaultEmpty();
});

test('a moov-last MP4 is not streamed: it is cleaned once it is whole, as before', async () => {
  const src = clip('slow.mp4', 'libx264', false);
  const before = { ...earlyCounts };
  const { clean } = await send(src);
  assert.deepEqual({ ...earlyCounts }, before, 'nothing started');
  assert.ok(clean.equals((await ordinary(src)).bytes));
});

/**
 * A multipart tip over a raw socket: the first file's part, then a wait until the remux started
 * on it, then `rest` (more parts and the end) unless `cut`, when the connection is dropped there.
 */
async function rawTip(first: Buffer, rest: Array<{ name: string; data: Buffer }>, cut: boolean): Promise<{ started: boolean; status: number }> {
  const boundary = 'early-remux-test';
  const part = (name: string, data: Buffer) => Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`), data, Buffer.from('\r\n')]);
  const body = Buffer.concat([part('v.mp4', first), ...rest.map((p) => part(p.name, p.data)), Buffer.from(`--${boundary}--\r\n`)]);
  const { port } = server.address() as AddressInfo;
  const sock = connect(port, '127.0.0.1');
  let reply = '';
  sock.on('data', (b: Buffer) => { reply += b.toString('latin1'); });
  const closed = new Promise((resolve) => sock.once('close', resolve));
  await new Promise((resolve) => sock.once('connect', resolve));
  sock.write(`POST /tips HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${body.length}\r\n\r\n`);
  const firstEnd = body.indexOf(`\r\n--${boundary}`, 100) - (cut ? Math.floor(first.length * 0.3) : 0);
  const startedBefore = earlyCounts.started;
  sock.write(body.subarray(0, firstEnd));
  for (let i = 0; i < 100 && earlyCounts.started === startedBefore; i++) await sleep(50);
  const started = earlyCounts.started === startedBefore + 1;
  if (cut) sock.destroy();
  else sock.write(body.subarray(firstEnd));
  await closed;
  return { started, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0) };
}

test('a fast-start video followed by a file we refuse: the tip is refused and the streamed draft is gone', async () => {
  const src = readFileSync(clip('then-bad.mp4', 'libx264', true));
  const r = await rawTip(src, [{ name: 'bad.bin', data: Buffer.alloc(4096, 0x5a) }], false);
  assert.ok(r.started, 'the remux had started');
  assert.equal(r.status, 415);
  await noFfmpegLeft();
  vaultEmpty();
});

test('an upload cut part way through a fast-start video leaves no draft, no seal and no ffmpeg behind', async () => {
  const src = readFileSync(clip('cut.mp4', 'libx264', true));
  const r = await rawTip(src, [], true);
  assert.ok(r.started, 'the remux started on what arrived');
  await noFfmpegLeft();
  await sleep(200);
  vaultEmpty();
  assert.deepEqual(readdirSync(svc.config.SCRATCH_DIR), [], 'scratch is empty');
});
