/**
 * `npm start` (scripts/start.sh) stopped with a SIGTERM to the script alone, as a supervisor or a
 * `kill <pid>` does: the intake and the worker must get it and stop, not be left running. They were,
 * while the script started them through npx: npm took the signal and did not pass it on.
 * Run against this test's own Redis (REDIS_URL), so the embedded one under ./data is never touched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startRedis } from '../support/redis.ts';
import { killAtExit, removeDirs, tempDir } from '../support/cleanup.ts';
import { processes, processTree } from '../support/proc-tree.ts';

/** Running, not gone and not a zombie (exited, waiting for its parent to reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

test('a SIGTERM to npm start (scripts/start.sh) stops the intake and the worker, and the intake removes its gpg home', { timeout: 120_000 }, async () => {
  const root = tempDir('buzon-npm-start-');
  const scratch = tempDir('buzon-npm-start-', '/dev/shm');
  const redis = await startRedis(join(root, 'redis'));
  const port = await freePort();
  const tmp = join(root, 'tmp');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TMPDIR: tmp,
    NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), REDIS_URL: redis.url,
    KEYS_DIR: join(root, 'keys'), DEMO_KEY_DIR: join(root, 'demo'), UPLOADS_DIR: join(root, 'uploads'),
    INBOX_DIR: join(root, 'inbox'), PARTIALS_DIR: join(root, 'partials'), SCRATCH_DIR: scratch,
  };
  mkdirSync(tmp);
  const start = killAtExit(spawn('bash', ['scripts/start.sh'], { env, detached: true, stdio: 'ignore' }), () => {
    try { process.kill(-start.pid!, 'SIGKILL'); } catch { /* gone */ }
  });
  const exited = new Promise<number | null>((resolve) => start.once('exit', (code) => resolve(code)));
  try {
    let up = false;
    for (let i = 0; i < 600 && !up; i++) {
      up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (!up) await sleep(100);
    }
    assert.ok(up, 'the intake answered /healthz');
    // The worker is up once it has joined the queue: give it the same few seconds as the intake.
    await sleep(2000);
    const service = processTree(start.pid!).slice(1).map((p) => p.pid);
    const cmdlines = service.map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { return ''; } });
    assert.ok(cmdlines.some((c) => c.includes('dist/src/intake/main.js')), `an intake runs: ${cmdlines.join(' | ')}`);
    assert.ok(cmdlines.some((c) => c.includes('dist/workers/main.js')), 'a worker runs');
    // Built JavaScript, not TypeScript through tsx: its compiler would cost each process ~30-40 MiB.
    assert.ok(cmdlines.every((c) => !c.includes('tsx')), `no tsx: ${cmdlines.join(' | ')}`);
    // No core dumps: a crash while cleaning would write the tips in memory to disk. 1 byte, which a
    // crash handler in core_pattern also honours (0 it ignores).
    for (const p of service) {
      const limits = (() => { try { return readFileSync(`/proc/${p}/limits`, 'utf8'); } catch { return ''; } })();
      if (limits) assert.match(limits, /^Max core file size\s+1\s+1\s/m, `core dumps allowed for ${cmdlines[service.indexOf(p)]}`);
    }
    // Its gpg home is in RAM scratch, not in the TMPDIR it was started with (temp-in-scratch.ts).
    const homes = () => readdirSync(join(scratch, 'tmp')).filter((n) => n.startsWith('buzon-gnupg-'));
    assert.equal(homes().length, 1, 'the intake made its gpg home in scratch');
    assert.deepEqual(readdirSync(tmp), [], 'nothing in the TMPDIR the service was started with');

    process.kill(start.pid!, 'SIGTERM');
    const code = await Promise.race([exited, sleep(30_000, undefined, { ref: false }).then(() => 'timeout' as const)]);
    assert.notEqual(code, 'timeout', 'npm start ended within 30 s');
    // Helpers of theirs may take a moment longer to notice their parent is gone.
    let left = service.filter(alive);
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await sleep(100);
      left = service.filter(alive);
    }
    assert.deepEqual(left, [], `still running: ${left.map((p) => cmdlines[service.indexOf(p)]).join(' | ')}`);
    assert.deepEqual(homes(), [], 'the intake removed its gpg home');
  } finally {
    try { process.kill(-start.pid!, 'SIGKILL'); } catch { /* gone */ }
    await redis.stop();
    removeDirs(root, scratch);
  }
});

test('a SIGTERM to npm start while it compiles ends it with nothing started: no intake, no worker', { timeout: 120_000 }, async () => {
  const root = tempDir('buzon-npm-start-build-');
  const scratch = tempDir('buzon-npm-start-build-', '/dev/shm');
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TMPDIR: root,
    NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port),
    // A Redis that is not there: the embedded one would use ./data, and none is needed to show this.
    REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    KEYS_DIR: join(root, 'keys'), DEMO_KEY_DIR: join(root, 'demo'), UPLOADS_DIR: join(root, 'uploads'),
    INBOX_DIR: join(root, 'inbox'), PARTIALS_DIR: join(root, 'partials'), SCRATCH_DIR: scratch,
  };
  // The next build compiles, as after an update (the stamp is what says dist/ is up to date).
  rmSync('dist/.built', { force: true });
  const start = killAtExit(spawn('bash', ['scripts/start.sh'], { env, detached: true, stdio: 'ignore' }), () => {
    try { process.kill(-start.pid!, 'SIGKILL'); } catch { /* gone */ }
  });
  const exited = new Promise<number | null>((resolve) => start.once('exit', (code) => resolve(code)));
  const group = () => processTree(start.pid!).slice(1).map((p) => { try { return readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { return ''; } });
  try {
    let compiling = false;
    for (let i = 0; i < 600 && !compiling; i++) {
      compiling = group().some((c) => c.includes('typescript/bin/tsc'));
      if (!compiling) await sleep(50);
    }
    assert.ok(compiling, 'npm start is compiling');
    process.kill(start.pid!, 'SIGTERM');
    const code = await Promise.race([exited, sleep(30_000, undefined, { ref: false }).then(() => 'timeout' as const)]);
    assert.notEqual(code, 'timeout', 'npm start ended');
    // The compiler, left to finish, may run on for seconds; nothing else of this start's process
    // group may start meanwhile or after it.
    const ours = () => processes().filter((p) => p.pgid === start.pid && p.state !== 'Z').map((p) => {
      try { return readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { return ''; }
    });
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && ours().some((c) => c.includes('typescript/bin/tsc')); ) await sleep(200);
    await sleep(2000);
    assert.deepEqual(ours().filter((c) => c.includes('dist/') || c.includes('redis-server')), [], 'no service of this start runs');
    assert.equal(await fetch(`http://127.0.0.1:${port}/healthz`).then(() => 'answered', () => 'refused'), 'refused', 'no intake was started');
  } finally {
    try { process.kill(-start.pid!, 'SIGKILL'); } catch { /* gone */ }
    removeDirs(root, scratch);
  }
});
