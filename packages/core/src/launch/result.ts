import type { Enforcement } from '../cgroup/enforcement.js'

/**
 * Which nsbox limit ended a sandbox. `'memory'` and `'pids'` are decided from the
 * cgroup's own counters (an OOM kill, a refused fork), never from the exit status alone;
 * under the watchdog, from its samples.
 */
export type KilledBy = 'timeout' | 'memory' | 'pids'

/**
 * How a sandbox ended and what it printed. {@link run} resolves with one whatever the exit
 * code; {@link spawn} exposes one as `result`. An error a sandbox ends with carries
 * `command` too, so messages can name the command either way.
 */
export interface SandboxResult {
  /** The command line, for messages: file and arguments, shell-quoted where needed. */
  command: string
  /** The command's exit code, or `null` when a signal ended it. */
  exitCode: number | null
  /** The signal that ended the command, such as `'SIGKILL'`, or `null`. */
  signal: NodeJS.Signals | null
  /** The nsbox limit that ended the sandbox, or `null` when none did. */
  killedBy: KilledBy | null
  /** Wall-clock milliseconds from `run()` or `spawn()` to the end of the sandbox. */
  duration: number
  /**
   * CPU milliseconds (user + system) used by every process of the sandbox: from the
   * cgroup when there is one, else of the processes the sandbox's init reaped.
   */
  cpuTime: number | null
  /**
   * Highest memory use in bytes: the cgroup's peak (`memory.peak`, v1
   * `memory.max_usage_in_bytes`), or the watchdog's highest sample; `null` when the
   * sandbox had neither (no limits set) or the kernel does not report it.
   */
  memoryPeak: number | null
  /** Highest number of tasks (processes and threads) at once, when measured; else `null`. */
  pidsPeak: number | null
  /** What enforced each limit that was set: `'cgroup2'`, `'cgroup1'` or `'watchdog'`. */
  enforcement: Enforcement
  /** What the command wrote to stdout (with {@link spawn}: always `''`; read the stream). */
  stdout: string
  /** What the command wrote to stderr (with {@link spawn}: always `''`; read the stream). */
  stderr: string
  /** Whether `stdout` or `stderr` was cut at `maxOutput`. */
  truncated: boolean
}

/** Quotes a command line for display: `node -e 'console.log(1)'`. */
export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args]
    .map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : `'${part.replaceAll("'", `'\\''`)}'`))
    .join(' ')
}
