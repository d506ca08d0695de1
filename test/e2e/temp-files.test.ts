/**
 * libvips (under sharp) decodes an animated WebP into a hidden temporary file in TMPDIR: hundreds of
 * MB of the tipster's pixels, and the file's EXIF. TMPDIR is usually on disk (/tmp). The intake
 * points it into its RAM scratch at start (src/sanitize/temp-in-scratch.ts). Here the real intake
 * process, started with TMPDIR on another folder, cleans such a WebP while the test watches every
 * file it holds open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis, freePort } from '../support/redis.ts';
import { Proc, httpReady } from '../support/proc-service.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';
import { openFiles } from '../support/proc-tree.ts';

test("an animated WebP's decoded frames go to a temporary file in RAM scratch, never in the TMPDIR the intake was started with", async (t) => {
  const root = tempDir('buzon-temp-');
  const scratch = tempDir('buzon-temp-', '/dev/shm');
  const redis = await startRedis(join(root, 'redis'));
  const port = await freePort();
  const env = {
    NODE_ENV: 'test', PORT: String(port), HOST: '127.0.0.1', REDIS_URL: redis.url, KEYS_DIR: join(root, 'keys'),
    DEMO_KEY_DIR: join(root, 'demo'), UPLOADS_DIR: join(root, 'uploads'), INBOX_DIR: join(root, 'inbox'),
    PARTIALS_DIR: join(root, 'partials'), SCRATCH_DIR: scratch, BARE_TIPS_PER_MINUTE: '1000',
  };
  const intake = new Proc({ name: 'intake', script: 'src/intake/main.ts', env, ready: httpReady(port), logFile: join(root, 'intake.log') });
  t.after(async () => {
    await intake.close();
    await redis.stop();
    removeDirs(root, scratch);
  });
  await intake.start();

  // Eight seconds of 720p: ~300 MB once decoded, which libvips puts in a temporary file.
  const webp = join(root, 'sticker.webp');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=10', '-t', '8', '-c:v', 'libwebp_anim', '-loop', '0', '-q:v', '50', webp]);
  const form = new FormData();
  form.append('note', 'sticker');
  form.append('files', new Blob([readFileSync(webp)]), 'sticker.webp');
  const sent = fetch(`http://127.0.0.1:${port}/tips`, { method: 'POST', body: form, headers: { Accept: 'application/json' } });

  const seen = new Set<string>();
  let done = false;
  void sent.finally(() => { done = true; });
  while (!done) {
    for (const f of openFiles(intake.pid!)) if (f.endsWith('(deleted)')) seen.add(f);
    await new Promise((r) => setTimeout(r, 2));
  }
  const res = await sent;
  assert.equal(res.status, 201, await res.text());

  const temp = [...seen].filter((f) => /\/#\d+ \(deleted\)$/.test(f));
  assert.ok(temp.length > 0, `libvips made no temporary file this time; nothing proven (open deleted files: ${[...seen].join(', ')})`);
  for (const f of temp) assert.ok(f.startsWith(join(scratch, 'tmp') + '/'), `a temporary file outside RAM scratch: ${f}`);
  assert.ok(![...seen].some((f) => f.startsWith(intake.tmp)), 'a file in the TMPDIR the intake was started with');
});
