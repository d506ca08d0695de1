/** Processes under a pid, from /proc: for benches that measure a service's processes, and tests that check none is left. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Every file a process holds open right now, by path ("<path> (deleted)" once unlinked). */
export function openFiles(pid: number | 'self'): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  return fds.flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return []; // closed meanwhile (the listing's own descriptor, for one)
    }
  });
}

export interface Proc { pid: number; ppid: number; pgid: number; comm: string; state: string }

/** Every process on the machine, from /proc/<pid>/stat. */
export function processes(): Proc[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const [state, ppid, pgid] = stat.slice(close + 2).split(' ');
      return [{ pid: Number(d), ppid: Number(ppid), pgid: Number(pgid), comm: stat.slice(stat.indexOf('(') + 1, close), state: state! }];
    } catch {
      return []; // gone
    }
  });
}

/** `pid` and all its descendants, parents before children. */
export function processTree(pid: number): Array<{ pid: number; comm: string }> {
  const children = new Map<number, number[]>();
  const comm = new Map<number, string>();
  for (const p of processes()) {
    comm.set(p.pid, p.comm);
    children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  }
  const out: Array<{ pid: number; comm: string }> = [];
  const walk = (p: number) => {
    out.push({ pid: p, comm: comm.get(p) ?? '?' });
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}
