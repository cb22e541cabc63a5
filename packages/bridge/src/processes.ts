import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** The fields of /proc/<pid>/stat that process cleanup needs. */
export interface ProcStat {
  pid: number;
  /** One letter: R running, S sleeping, Z zombie, … */
  state: string;
  ppid: number;
  pgid: number;
}

/** Read /proc/<pid>/stat; undefined when the process is gone or there is no procfs. */
export function readProcStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgid …", where comm may itself contain spaces and parentheses.
  const [state = '', ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pid, state, ppid: Number(ppid), pgid: Number(pgid) };
}

/** Every process procfs lists that is not a zombie (empty without procfs). */
export function listLiveProcesses(): ProcStat[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  return names
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProcStat(Number(name)))
    .filter((stat): stat is ProcStat => stat !== undefined && stat.state !== 'Z');
}

/** Probe with signal 0: true when the target exists (zombies included) or belongs to someone else. */
function exists(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True while `pid` names a running process. A zombie (dead, not yet reaped by its parent) counts as
 * gone: it holds no resources and cannot run again.
 */
export function isProcessAlive(pid: number): boolean {
  if (!exists(pid)) return false;
  if (process.platform !== 'linux') return true;
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** True while a live (non-zombie) process belongs to the process group `pgid`. */
export function isGroupAlive(pgid: number): boolean {
  if (!exists(-pgid)) return false;
  if (process.platform !== 'linux') return true;
  return listLiveProcesses().some((stat) => stat.pgid === pgid);
}

function deliver(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Send a signal, ignoring a process that is already gone. */
export function signalProcess(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid !== undefined && pid > 0) deliver(pid, signal);
}

/** Signal every process of the group led by `pgid` (the runner is started as a group leader). */
export function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (pgid !== undefined && pgid > 0) deliver(-pgid, signal);
}

/** Wait until the processes and groups are all gone; false when some remain after `timeoutMs`. */
export async function waitUntilGone(
  { pids = [], groups = [] }: { pids?: readonly number[]; groups?: readonly number[] },
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!pids.some(isProcessAlive) && !groups.some(isGroupAlive)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
}
