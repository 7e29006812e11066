/** CPU time and memory of a process, read from /proc (Linux). */
import fs from 'node:fs';
import os from 'node:os';

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Resident set size of a process in MB. */
export function rssMB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

/** Samples the RSS of some processes every `everyMs` and keeps each one's peak. */
export function watchMemory(pids: number[], everyMs = 250) {
  const peaks = new Map(pids.map((pid) => [pid, 0]));
  const sample = (): void => {
    for (const pid of pids) {
      try {
        peaks.set(pid, Math.max(peaks.get(pid) ?? 0, rssMB(pid)));
      } catch {
        // the process ended
      }
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop(): Map<number, number> {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/** Size of the files of a directory in MB (not recursive beyond one level). */
export function directoryMB(dir: string): number {
  let bytes = 0;
  for (const name of fs.readdirSync(dir)) bytes += fs.statSync(`${dir}/${name}`).size;
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

export const CORES = os.cpus().length;
