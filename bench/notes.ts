/**
 * Figure (c): note-only tips per second and latency with autocannon, against a bare Express handler
 * that only reads the same multipart body, in the same run. Loopback only, bounded in time.
 * Also prints the CPU each process spent per acknowledged tip (from /proc: intake, worker, Redis,
 * this client), since the 2 cores are saturated and only less CPU per tip can raise the rate, and
 * how far delivery lagged behind acknowledgement at the end of each run.
 * Env: BENCH_RUNS (default 3), NOTES_SECONDS (default 10), NOTES_CONNECTIONS (default 16).
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { freePort } from '../test/support/redis.ts';
import { noteBody, noteHeaders } from './note-body.ts';
import { delivered, disposeEditors, fmt, killTree, makeEditors, processTree, removeDirs, report, runs, startService, stats, stopAtExit, tempDir } from './lib.ts';

const TICK = 100; // USER_HZ on Linux

/** utime + stime of `pids`, in CPU seconds. */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return ticks / TICK;
}

/**
 * The redis-server listening on `port` (spawned by test/support/redis.ts, which keeps no pid for us).
 * Redis rewrites its own title to `redis-server 127.0.0.1:<port>`.
 */
function redisPids(port: number): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmd.startsWith('redis-server') && cmd.includes(`:${port}`);
    } catch {
      return false;
    }
  });
}

const n = runs(3);
const seconds = Number(process.env.NOTES_SECONDS ?? 10);
const connections = Number(process.env.NOTES_CONNECTIONS ?? 16);

async function cannon(url: string): Promise<{ rps: number; p99: number; p50: number; non2xx: number; errors: number; ok: number }> {
  const r = await autocannon({ url: `${url}/tips`, method: 'POST', body: noteBody, headers: noteHeaders, connections, duration: seconds });
  return { rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, non2xx: r.non2xx, errors: r.errors, ok: r['2xx'] };
}

const work = tempDir('buzon-bench-notes-');
const ed = makeEditors(work);
const svc = await startService(ed);
const barePort = await freePort();
const bare = stopAtExit(spawn('npx', ['tsx', 'bench/bare-server.ts', String(barePort)], { stdio: 'inherit', detached: true }));
const bareUrl = `http://127.0.0.1:${barePort}`;
try {
  for (let i = 0; ; i++) {
    if (await fetch(`${bareUrl}/tips`, { method: 'POST', body: noteBody, headers: noteHeaders }).then((r) => r.ok, () => false)) break;
    if (i > 200) throw new Error('bare server did not start');
    await sleep(100);
  }
  const ours: Awaited<ReturnType<typeof cannon>>[] = [];
  const base: Awaited<ReturnType<typeof cannon>>[] = [];
  await cannon(svc.url); // warm-up, not counted
  const roles = {
    intake: () => processTree(svc.intake.pid!).map((p) => p.pid),
    worker: () => processTree(svc.worker.pid!).map((p) => p.pid),
    redis: () => redisPids(svc.redis.port),
  };
  const cpu: Record<string, number[]> = { intake: [], worker: [], redis: [], client: [] };
  for (let i = 0; i < n; i++) {
    const before = Object.fromEntries(Object.entries(roles).map(([k, f]) => [k, cpuSeconds(f())]));
    const client0 = process.cpuUsage();
    const r = await cannon(svc.url);
    const client = process.cpuUsage(client0);
    for (const [k, f] of Object.entries(roles)) cpu[k]!.push(((cpuSeconds(f()) - before[k]!) * 1000) / r.ok);
    cpu.client!.push((client.user + client.system) / 1000 / r.ok);
    ours.push(r);
    const acked = ours.reduce((a, x) => a + x.ok, 0);
    console.log(`  run ${i + 1}: ${r.rps.toFixed(0)}/s, p99 ${r.p99} ms; CPU ms per tip: ${Object.entries(cpu).map(([k, v]) => `${k} ${v[i]!.toFixed(2)}`).join(', ')}; ` +
      `delivered ${delivered(svc.inbox).length} of ${acked} acknowledged (warm-up excluded)`);
    base.push(await cannon(bareUrl));
  }
  const bad = ours.reduce((a, r) => a + r.non2xx + r.errors, 0);
  const rps = stats(ours.map((r) => r.rps));
  const p99 = stats(ours.map((r) => r.p99));
  const bareRps = stats(base.map((r) => r.rps));
  const ratio = stats(ours.map((r, i) => r.rps / base[i]!.rps));
  console.log(`buzon tips/s ${fmt(rps, 0)}; p99 ms ${fmt(p99, 0)}; p50 ms ${fmt(stats(ours.map((r) => r.p50)), 0)}; non-2xx+errors ${bad}`);
  console.log(`bare  req/s  ${fmt(bareRps, 0)}; p99 ms ${fmt(stats(base.map((r) => r.p99)), 0)}; ratio ${fmt(ratio, 2)}`);
  console.log(`  CPU ms per tip (median): ${Object.entries(cpu).map(([k, v]) => `${k} ${stats(v).median.toFixed(2)}`).join(', ')}`);
  console.log(`  peak RSS MiB: intake ${svc.peaks().intake.toFixed(0)}, worker ${svc.peaks().worker.toFixed(0)}`);
  report(`note-only tips, ${connections} connections`, `${rps.median.toFixed(0)}/s, p99 ${p99.median.toFixed(0)} ms, ${ratio.median.toFixed(2)}× bare`,
    `bare Express ${bareRps.median.toFixed(0)}/s`, '≥500/s, p99<200 ms, ≥0.3× bare');
} finally {
  killTree(bare.pid!);
  await svc.stop();
  disposeEditors(ed);
  removeDirs(work);
}
