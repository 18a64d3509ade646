// CPU time of processes from /proc (Linux), for the benches that run their peers as separate
// processes: one process (utime + stime), or a process and its live children (Kamailio's and
// PostgreSQL's workers).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const CLK_TCK = ((): number => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is state, [1] ppid, [11] utime, [12] stime. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in ms, or undefined when it is gone. */
export function procCpuMs(pid: number): number | undefined {
  const f = statFields(pid);
  return f === undefined ? undefined : ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** utime + stime in ms of one thread (task) of a process, or undefined when it is gone; the main thread's tid is the pid. */
export function threadCpuMs(pid: number, tid: number): number | undefined {
  const f = statFields(`${pid}/task/${tid}`);
  return f === undefined ? undefined : ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** CPU ms of a process plus its live children (one level), or undefined when it is gone. */
export function procTreeCpuMs(pid: number): number | undefined {
  let total = procCpuMs(pid);
  if (total === undefined) return undefined;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(name);
    if (f !== undefined && Number(f[1]) === pid) total += ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  }
  return total;
}
