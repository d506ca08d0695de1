/** Processes under a pid, from /proc: for benches that measure a service's processes, and tests that check none is left. */
import { readdirSync, readFileSync } from 'node:fs';

/** `pid` and all its descendants, parents before children. */
export function processTree(pid: number): Array<{ pid: number; comm: string }> {
  const children = new Map<number, number[]>();
  const comm = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      comm.set(Number(name), stat.slice(stat.indexOf('(') + 1, close));
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch { /* gone */ }
  }
  const out: Array<{ pid: number; comm: string }> = [];
  const walk = (p: number) => {
    out.push({ pid: p, comm: comm.get(p) ?? '?' });
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}
