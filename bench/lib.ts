/**
 * Shared helpers for the benchmarks: statistics, peak memory from /proc, editors' keys made by gpg,
 * and a whole service (redis-server, intake and worker as separate node processes) on loopback.
 * Every load here targets 127.0.0.1 only and is bounded in count and time. What a bench makes goes
 * when it is done, or at the latest when it exits (test/support/cleanup.ts): use tempDir for its
 * folders, disposeEditors for the editors, stop() for the service.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRedis, freePort, type TestRedis } from '../test/support/redis.ts';
import { makeEditor, type GpgEditor } from '../test/support/gpg.ts';
import { gpgHome, killAtExit, removeDirs, tempDir } from '../test/support/cleanup.ts';
import { processTree } from '../test/support/proc-tree.ts';

export { processTree, removeDirs, tempDir };

export const MiB = 1024 * 1024;

export interface Stats { min: number; median: number; max: number; n: number }

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s[s.length - 1]!, n: s.length };
}

export function fmt(s: Stats, digits = 1): string {
  return `min ${s.min.toFixed(digits)} / median ${s.median.toFixed(digits)} / max ${s.max.toFixed(digits)} (n=${s.n})`;
}

/** One line per figure, the same shape in every script, so run.sh's output can be pasted. */
export function report(figure: string, value: string, baseline: string, goal: string): void {
  process.stdout.write(`FIGURE | ${figure} | ${value} | ${baseline} | ${goal}\n`);
}

export function runs(defaultN: number): number {
  return Number(process.env.BENCH_RUNS ?? defaultN);
}

/** Peak resident set (VmHWM) of a live process, in MiB; undefined once it has exited. */
export function vmHwmMiB(pid: number): number | undefined {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERM to `pid` and every descendant (npx does not pass signals on to tsx's node child). */
export function killTree(pid: number): void {
  for (const p of processTree(pid).reverse()) {
    try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone */ }
  }
}

/** Peak RSS of every node process under `pid`. */
export function nodePeaks(pid: number): Array<{ pid: number; hwmMiB: number }> {
  return processTree(pid)
    .filter((p) => p.comm === 'node' || p.comm.startsWith('node'))
    .map((p) => ({ pid: p.pid, hwmMiB: vmHwmMiB(p.pid) ?? 0 }));
}

export interface Editors { keysDir: string; gnupgHome: string; recipients: string[]; editors: GpgEditor[] }

/**
 * An RSA-3072 and a Curve25519 editor, as in production, plus one GNUPGHOME holding both public keys
 * for the gpg baseline. Their public keys go to `<root>/keys`; remove the rest with disposeEditors.
 */
export function makeEditors(root: string): Editors {
  const editors = [makeEditor('rsa3072'), makeEditor('cv25519')];
  const keysDir = join(root, 'keys');
  mkdirSync(keysDir, { recursive: true });
  const gnupgHome = gpgHome('buzon-bench-gpg-');
  editors.forEach((e, i) => {
    writeFileSync(join(keysDir, `editor-${i}.asc`), e.publicKey);
    spawnSync('gpg', ['--homedir', gnupgHome, '--batch', '--no-autostart', '--import'], { input: e.publicKey, stdio: ['pipe', 'ignore', 'ignore'] });
  });
  return { keysDir, gnupgHome, recipients: editors.map((e) => e.email), editors };
}

/** Stops the gpg-agents of makeEditors' homes and removes them (the keys folder is the caller's). */
export function disposeEditors(ed: Editors | undefined): void {
  if (ed) removeDirs(ed.gnupgHome, ...ed.editors.map((e) => e.home));
}

/** Wall seconds of `gpg -z 0 --encrypt` of `input` to every editor, written to `output`. */
export function gpgEncryptSeconds(ed: Editors, input: string, output: string): number {
  const t0 = performance.now();
  const r = spawnSync('gpg', ['--homedir', ed.gnupgHome, '--batch', '--no-autostart', '--yes', '--trust-model', 'always', '-z', '0',
    ...ed.recipients.flatMap((r) => ['-r', r]), '-o', output, '--encrypt', input], { stdio: 'ignore' });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error('gpg --encrypt failed');
  return s;
}

export interface Service {
  url: string;
  root: string;
  env: Record<string, string>;
  intake: ChildProcess;
  worker: ChildProcess;
  redis: TestRedis;
  inbox: string;
  /** Peak RSS of every node process of intake and worker, read now. */
  peaks(): { intake: number; worker: number; all: Array<{ role: string; pid: number; hwmMiB: number }> };
  stop(): Promise<void>;
}

/**
 * As `npm start` runs it: `node dist/...`, built by scripts/build.sh. BENCH_PROFILE_DIR
 * adds --cpu-prof (Node 20 refuses it in NODE_OPTIONS); profiles are written when the process stops.
 * Detached: the role leads its own process group, for stopAtExit.
 */
function spawnRole(script: string, env: Record<string, string>, nodeArgs: string[] = []): ChildProcess {
  // The same V8 option scripts/start.sh sets; BENCH_NODE_OPTIONS replaces it for an A/B.
  const nodeOptions = process.env.BENCH_NODE_OPTIONS ?? '--max-semi-space-size=4';
  const opts = { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: nodeOptions, ...env }, detached: true };
  const prof = process.env.BENCH_PROFILE_DIR;
  const profArgs = prof ? [...nodeOptions.split(' ').filter(Boolean), '--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  return spawn(process.execPath, [...profArgs, ...nodeArgs, script], { ...opts, stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * Node options for the intake's command line, for an A/B of V8 options Node refuses in NODE_OPTIONS
 * (BENCHMARKS.md, round 8: `--initial-old-space-size=128`). `npm start` gives none.
 */
const INTAKE_ARGS = (process.env.BENCH_INTAKE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * `child`, spawned detached, whose process group (the role's node and any child it started) is
 * SIGKILLed if still running when the bench exits: a SIGTERM would leave a worker waiting for ever
 * on the Redis killed alongside it.
 */
export function stopAtExit<T extends ChildProcess>(child: T): T {
  return killAtExit(child, () => {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
  });
}

/** Intake and worker as separate processes, as `npm start` runs them, with scratch under /dev/shm. */
export async function startService(ed: Editors, extraEnv: Record<string, string> = {}): Promise<Service> {
  const root = tempDir('buzon-bench-');
  const redis = await startRedis(join(root, 'redis'));
  const port = await freePort();
  // The service's own temp folder: what a killed intake leaves there (its gpg home) goes with root.
  const tmp = join(root, 'tmp');
  mkdirSync(tmp);
  const env: Record<string, string> = {
    NODE_ENV: 'production', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), REDIS_URL: redis.url, TMPDIR: tmp,
    KEYS_DIR: ed.keysDir, UPLOADS_DIR: join(root, 'uploads'), INBOX_DIR: join(root, 'inbox'),
    PARTIALS_DIR: join(root, 'partials'), SCRATCH_DIR: tempDir('buzon-bench-', '/dev/shm'),
    MAX_FILE_BYTES: String(3 * 1024 * MiB), MAX_TIP_BYTES: String(3 * 1024 * MiB),
    // The abuse gate's global budgets (60 tips a minute by default) are opened: these figures are
    // the pipeline's capacity, not the admission policy's.
    TIPS_PER_MINUTE: '100000000', NOJS_TIPS_PER_MINUTE: '100000000', BARE_TIPS_PER_MINUTE: '100000000',
    ...extraEnv,
  };
  // What npm start runs: compiled first, unless dist/ was built from these very sources.
  execFileSync('bash', ['scripts/build.sh'], { stdio: 'inherit' });
  const intake = stopAtExit(spawnRole('dist/src/intake/main.js', env, INTAKE_ARGS));
  const worker = stopAtExit(spawnRole('dist/workers/main.js', env));
  const url = `http://127.0.0.1:${port}`;
  const inbox = env.INBOX_DIR!;
  const svc: Service = {
    url, root, env, intake, worker, redis, inbox,
    peaks() {
      const all = [
        ...nodePeaks(intake.pid!).map((p) => ({ role: 'intake', ...p })),
        ...nodePeaks(worker.pid!).map((p) => ({ role: 'worker', ...p })),
      ];
      const max = (role: string) => Math.max(0, ...all.filter((p) => p.role === role).map((p) => p.hwmMiB));
      return { intake: max('intake'), worker: max('worker'), all };
    },
    async stop() {
      for (const c of [intake, worker]) killTree(c.pid!);
      await Promise.all([intake, worker].map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
      await redis.stop();
      removeDirs(env.SCRATCH_DIR, root);
    },
  };
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 300 || intake.exitCode !== null) {
      await svc.stop();
      throw new Error('intake did not become ready');
    }
    await sleep(100);
  }
  return svc;
}

/**
 * A noisy 2 s clip (~100 MiB) near-losslessly encoded: cheap to make, costly to compress. `codec` is
 * VIDEO_CODEC: h264 (the default) or hevc, the iPhone's codec, whose output moov passes through the
 * intake to be cleaned (video-stream.ts).
 */
export function makeNoisyClip(path: string, codec = process.env.VIDEO_CODEC ?? 'h264', moov = (process.env.VIDEO_MOOV ?? 'first').split(',')[0]!): void {
  if (moov !== 'first' && moov !== 'last') throw new Error('VIDEO_MOOV is first or last');
  if (codec !== 'h264' && codec !== 'hevc') throw new Error('VIDEO_CODEC is h264 or hevc');
  const enc = codec === 'h264'
    ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0']
    : ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=none:qp=0', '-tag:v', 'hvc1'];
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=30,noise=alls=60:allf=t', '-t', '2',
    ...enc, '-pix_fmt', 'yuv420p', ...(moov === 'first' ? ['-movflags', '+faststart'] : []), path]);
}

/** Tips delivered to the inbox so far. */
export function delivered(inbox: string): string[] {
  try {
    return readdirSync(inbox).filter((n) => /^[a-f0-9]{32}$/.test(n));
  } catch {
    return [];
  }
}

export async function waitDelivered(inbox: string, count: number, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (delivered(inbox).length < count) {
    if (Date.now() - start > timeoutMs) throw new Error(`inbox has ${delivered(inbox).length} tips, wanted ${count}`);
    await sleep(20);
  }
}

/** POST a tip with curl (a separate process, so the client's work is not counted in ours). */
export function curlTip(url: string, fields: Record<string, string>, file?: string): Promise<{ code: number; seconds: number }> {
  const args = ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Accept: application/json', '--max-time', '600'];
  for (const [k, v] of Object.entries(fields)) args.push('-F', `${k}=${v}`);
  if (file) args.push('-F', `files=@${file}`);
  // BENCH_UPLOAD_RATE (curl's --limit-rate, e.g. 50M): an upload as slow as a real link, not loopback.
  if (process.env.BENCH_UPLOAD_RATE) args.push('--limit-rate', process.env.BENCH_UPLOAD_RATE);
  args.push(`${url}/tips`);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn('curl', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.on('error', reject);
    c.on('close', () => resolve({ code: Number(out), seconds: (performance.now() - t0) / 1000 }));
  });
}

/** The editorial worker alone, as a child process, for bench/worker-drain.ts. */
export async function startWorkerOnly(env: Record<string, string>): Promise<{ pid: number; peak(): number }> {
  execFileSync('bash', ['scripts/build.sh'], { stdio: 'inherit' });
  const w = stopAtExit(spawnRole('dist/workers/main.js', { NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env }));
  return { pid: w.pid!, peak: () => Math.max(0, ...nodePeaks(w.pid!).map((p) => p.hwmMiB)) };
}
