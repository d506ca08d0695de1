/**
 * BULK_SEALER=gpg is an operator's promise that videos are sealed by gpg: on a machine without gpg
 * the intake must refuse to start, naming the setting and the reason, rather than fall back quietly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeEditor, writeKey } from '../support/gpg.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

test('BULK_SEALER=gpg on a machine without gpg: the intake does not start, and says why', () => {
  const editor = makeEditor('cv25519');
  const root = tempDir('buzon-bulk-');
  const scratch = tempDir('buzon-bulk-', '/dev/shm');
  try {
    mkdirSync(join(root, 'keys'));
    writeKey(join(root, 'keys'), 'editor.asc', editor.publicKey);
    // The intake's own temp folder, where it would make its gpg home: it must be empty after.
    const tmp = join(root, 'tmp');
    mkdirSync(tmp);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/intake/main.ts'], {
      // No gpg on this PATH: the start-up check cannot run it.
      env: { PATH: '/nonexistent', HOME: root, TMPDIR: tmp, NODE_ENV: 'test', BULK_SEALER: 'gpg', KEYS_DIR: join(root, 'keys'), REDIS_URL: 'redis://127.0.0.1:1',
        UPLOADS_DIR: join(root, 'uploads'), SCRATCH_DIR: scratch, PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /BULK_SEALER=gpg, but gpg is not installed/);
    assert.equal(existsSync(join(root, 'uploads')), false, 'nothing was set up before the refusal');
    assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('buzon-gnupg-')), [], 'no gpg home left behind');
  } finally {
    removeDirs(root, scratch, editor.home);
  }
});
