import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

// libvips stays out of the intake until a picture needs it (src/sanitize/sharp-lazy.ts): notes and
// videos, most tips, then leave ~10 MiB more of the intake's memory for uploads. Checked in a fresh
// process, from the libraries it has mapped.

function mapsLibvipsAfter(script: string): boolean {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `${script}
const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');
console.log(/libvips/.test(maps) ? 'loaded' : 'not loaded');`], { encoding: 'utf8', cwd: process.cwd() });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() === 'loaded';
}

test('the intake starts without libvips, and loads it for the first picture it cleans', () => {
  assert.equal(mapsLibvipsAfter("await import('./src/intake/app.ts');"), false);
  assert.equal(mapsLibvipsAfter(`
const { loadSharp } = await import('./src/sanitize/sharp-lazy.ts');
await (await loadSharp())({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer();`), true);
});
