import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { startService, type TestService } from '../support/service.ts';
import { makeEditor, gpgDecrypt, type GpgEditor } from '../support/gpg.ts';
import { waitForInbox } from '../support/wait.ts';
import { filesUnder } from '../support/search.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

// MP4 and MOV are remuxed straight into the seal (src/sanitize/video-stream.ts): what editors open is
// a fragmented file that was never written to scratch. These check it through the whole service.

let svc: TestService;
let editor: GpgEditor;
const work = tempDir('buzon-video-stream-');
const ISO6709 = '+19.4326-099.1332+2240.000/';

before(async () => {
  editor = makeEditor('cv25519');
  svc = await startService({ editors: [editor.publicKey], env: { BULK_SEALER: 'gpg' } });
});
after(async () => {
  await svc.stop();
  removeDirs(work, editor.home);
});

function ffmpeg(...args: string[]): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
}

function ffprobe(path: string): { streams: Array<{ codec_type: string; nb_read_frames?: string; start_time?: string; duration?: string }>; format: { duration: string } } {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', path]).toString());
}

function topBoxes(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at + 8 <= bytes.length && out.length < 6; at += bytes.readUInt32BE(at)) out.push(bytes.toString('latin1', at + 4, at + 8));
  return out;
}

// The HEVC cases take both ways of cleaning its hvcC: in the input before the remux (moov last, as
// phones write it), and on the way out of ffmpeg (moov first: "faststart").
for (const [ext, codec, faststart] of [['mp4', 'libx264', false], ['mov', 'libx265', false], ['mp4', 'libx265', true]] as const) {
  test(`a ${codec} ${ext.toUpperCase()}${faststart ? ' (moov first)' : ''} with a location is delivered fragmented, whole, clean, in sync and playable`, async (t) => {
    const src = join(work, `VID_20240312_181502.${ext}`);
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=15', '-f', 'lavfi', '-i', 'sine=sample_rate=8000', '-t', '3',
      '-c:v', codec, '-g', '15', ...(codec === 'libx265' ? ['-x265-params', 'log-level=none', '-tag:v', 'hvc1'] : []),
      ...(faststart ? ['-movflags', 'faststart'] : []),
      '-c:a', 'aac', '-metadata', `location=${ISO6709}`, '-metadata', 'com.apple.quicktime.model=iPhone 15 Pro', src);
    const res = await request(svc.intake.app).post('/tips').set('Accept', 'application/json').attach('files', src).expect(201);
    const tip = (await waitForInbox(svc.config.INBOX_DIR))[0]!;
    t.after(() => rmSync(tip, { recursive: true, force: true }));
    const manifest = JSON.parse(gpgDecrypt(editor, join(tip, 'manifest.json.pgp')).toString());
    assert.equal(manifest.receipt, res.body.receipt);
    const clean = gpgDecrypt(editor, join(tip, 'file-1.pgp'));
    assert.equal(manifest.files[0].name, `video-1.${ext}`);
    assert.equal(manifest.files[0].size, clean.length, 'the manifest gives the size of what was sealed');
    assert.deepEqual(topBoxes(clean).slice(0, 3), ['ftyp', 'moov', 'moof'], 'moov first, then fragments');
    const out = join(work, `clean.${ext}`);
    writeFileSync(out, clean);
    for (const marker of [ISO6709, 'iPhone', codec === 'libx265' ? 'x265' : 'x264', 'Lavf']) {
      assert.equal(clean.includes(Buffer.from(marker, 'latin1')), false, `${marker} survived`);
    }
    const [before, after] = [ffprobe(src), ffprobe(out)];
    assert.deepEqual(after.streams.map((s) => s.codec_type).sort(), ['audio', 'video']);
    const frames = (p: typeof before) => p.streams.find((s) => s.codec_type === 'video')?.nb_read_frames;
    assert.equal(frames(after), frames(before), 'every frame is there');
    // Lip sync: every stream ends when it ended in the original, and the picture starts when it did
    // (AAC priming may show as a negative audio start instead of a trimmed one: the same sound).
    const ends = (p: typeof before) => p.streams.map((s) => `${s.codec_type} ${(Number(s.start_time) + Number(s.duration)).toFixed(3)}`).sort();
    assert.deepEqual(ends(after), ends(before));
    const videoStart = (p: typeof before) => p.streams.find((s) => s.codec_type === 'video')?.start_time;
    assert.equal(videoStart(after), videoStart(before));
    assert.equal(execFileSync('ffmpeg', ['-v', 'error', '-i', out, '-f', 'null', '-']).toString(), '', 'decodes with no error');
    if (codec === 'libx265') assert.ok(manifest.files[0].removed.sei > 0, 'the hvcC SEI is reported');
  });
}

test('an MP4 that fails half way through its remux is refused whole: nothing sealed is kept or queued', async () => {
  const src = join(work, 'cut.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=15', '-t', '4', '-c:v', 'libx264', '-g', '15', '-movflags', 'faststart', src);
  const whole = readFileSync(src);
  const cut = join(work, 'cut-half.mp4');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.7)));
  const inboxBefore = readdirSync(svc.config.INBOX_DIR).length;
  const res = await request(svc.intake.app).post('/tips').set('Accept', 'application/json').attach('files', cut).expect(422);
  assert.equal(res.body.error.code, 'cleaning_failed');
  assert.deepEqual(filesUnder(svc.config.UPLOADS_DIR), [], 'no draft or sealed part left in the vault');
  assert.deepEqual(filesUnder(svc.config.SCRATCH_DIR), [], 'no plaintext left in scratch');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(readdirSync(svc.config.INBOX_DIR).length, inboxBefore);
});

test('with BULK_SEALER=openpgp the same video is sealed in process, and opens the same way', async (t) => {
  const other = await startService({ editors: [editor.publicKey], env: { BULK_SEALER: 'openpgp' } });
  t.after(() => other.stop());
  assert.equal(other.intake.gpg, undefined);
  assert.ok(svc.intake.gpg, 'the main service seals videos with gpg');
  const src = join(work, 'plain.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=15', '-t', '2', '-c:v', 'libx264', '-g', '15', src);
  await request(other.intake.app).post('/tips').set('Accept', 'application/json').attach('files', src).expect(201);
  const tip = (await waitForInbox(other.config.INBOX_DIR))[0]!;
  const manifest = JSON.parse(gpgDecrypt(editor, join(tip, 'manifest.json.pgp')).toString());
  const clean = gpgDecrypt(editor, join(tip, 'file-1.pgp'));
  assert.equal(manifest.files[0].size, clean.length);
  assert.deepEqual(topBoxes(clean).slice(0, 3), ['ftyp', 'moov', 'moof']);
  assert.equal(clean.includes(Buffer.from('x264', 'latin1')), false);
});
