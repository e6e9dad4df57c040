/** Reading a child process's CPU time, for the name-server benchmark's cost per request. */
import { readFileSync } from 'node:fs';

/** CPU time of a process in µs from /proc/PID/stat (utime + stime, clock ticks of 10 ms); null off Linux. */
export function cpuMicros(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}
