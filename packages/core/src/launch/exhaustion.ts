import { readFileSync } from 'node:fs'
import path from 'node:path'
import { readCurrentCgroups } from '../cgroup/layout.js'
import {
  type ExhaustedResource,
  isSandboxError,
  ResourceExhaustedError,
  type SandboxError,
  SetupFailedError,
} from '../errors.js'

/** What a message about a resource the caller ran out of can say about this process. */
export interface ExhaustionFacts {
  /** The soft limit of open files (`ulimit -n`), when known. */
  openFilesLimit: number | null
  /** The soft limit of processes of this user (`ulimit -u`); `null` when unlimited or unknown. */
  processesLimit: number | null
  /** The cgroup of this process (or an ancestor) that is at its `pids.max`, if one is. */
  fullPidsCgroup: { dir: string; max: number } | null
  /** Launchers (sandboxes and spares) this process had running. */
  runningLaunchers: number
}

const RESOURCE_OF_ERRNO: Record<string, ExhaustedResource> = {
  EMFILE: 'file-descriptors',
  ENFILE: 'file-descriptors',
  EAGAIN: 'processes',
  ENOMEM: 'memory',
}

/** The `errno` name of an error that says the caller ran out of something, else `null`. */
export function exhaustedErrno(error: unknown): string | null {
  const code = (error as NodeJS.ErrnoException | null)?.code
  return typeof code === 'string' && code in RESOURCE_OF_ERRNO ? code : null
}

/**
 * The error for a launch that failed because `errno` ran out: what ran out, which limit
 * it was, and how to raise it. Pure.
 */
export function describeExhaustion(
  errno: string,
  facts: ExhaustionFacts,
  cause?: unknown,
): ResourceExhaustedError {
  const resource = RESOURCE_OF_ERRNO[errno] ?? 'memory'
  const prefix = 'nsbox: could not start a sandbox:'
  const running =
    facts.runningLaunchers > 0
      ? `, and it has ${facts.runningLaunchers} sandbox launcher${facts.runningLaunchers === 1 ? '' : 's'} running, which hold up to 6 each`
      : ''
  let message: string
  if (errno === 'EMFILE') {
    const limit = facts.openFilesLimit === null ? '' : `; its limit is ${facts.openFilesLimit}`
    message = `${prefix} this process has run out of file descriptors (EMFILE${limit}${running}). Raise the limit where the process starts (\`ulimit -n 65536\` in its shell, LimitNOFILE= in a systemd unit), or start fewer sandboxes at once.`
  } else if (errno === 'ENFILE') {
    message = `${prefix} the system's table of open files is full (ENFILE). Raise it (\`sudo sysctl -w fs.file-max=1048576\`), or end processes that hold many files.`
  } else if (errno === 'EAGAIN') {
    const full = facts.fullPidsCgroup
    message = full
      ? `${prefix} no new process could be created (EAGAIN from fork): this process's cgroup ${full.dir} is at its pids.max of ${full.max}. Raise that pids.max, or start fewer sandboxes at once.`
      : `${prefix} no new process could be created (EAGAIN from fork): this user's process limit (\`ulimit -u\`${facts.processesLimit === null ? '' : `, now ${facts.processesLimit}`}), a pids.max of this process's cgroup, or the system's kernel.threads-max or kernel.pid_max was reached. Raise the one that is reached, or start fewer sandboxes at once.`
  } else {
    message = `${prefix} the system, or this process's cgroup, is out of memory (${errno}${running}). Free memory or raise the cgroup's memory limit, or start fewer sandboxes at once.`
  }
  return new ResourceExhaustedError(resource, errno, message, { cause })
}

let rememberedOpenFilesLimit: number | null = null

/**
 * Reads the open-file limit while descriptors are still free: once they have run out,
 * `/proc/self/limits` can no longer be opened to say what the limit was.
 */
export function rememberOpenFilesLimit(): void {
  rememberedOpenFilesLimit ??= readLimits().openFiles
}

/**
 * What this process's limits say, for {@link describeExhaustion}; every read may fail.
 * `tasksGone` counts the tasks that were there when the fork failed and have exited
 * since (the launcher that could not fork), for telling a cgroup that was full.
 */
export function readExhaustionFacts(runningLaunchers: number, tasksGone = 0): ExhaustionFacts {
  const limits = readLimits()
  return {
    openFilesLimit: limits.openFiles ?? rememberedOpenFilesLimit,
    processesLimit: limits.processes,
    fullPidsCgroup: findFullPidsCgroup(tasksGone),
    runningLaunchers,
  }
}

function readLimits(): { openFiles: number | null; processes: number | null } {
  let text = ''
  try {
    text = readFileSync('/proc/self/limits', 'utf8')
  } catch {
    // out of descriptors, most likely
  }
  const soft = (name: string): number | null => {
    const match = new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(text)
    return match ? Number(match[1]) : null
  }
  return { openFiles: soft('Max open files'), processes: soft('Max processes') }
}

// This process's pids cgroup, or the first ancestor, whose pids.current has reached pids.max.
function findFullPidsCgroup(tasksGone: number): { dir: string; max: number } | null {
  const current = readCurrentCgroups()
  const own = current.legacy.pids
  const start = own?.dir ?? current.unified
  const top = own?.mountPoint ?? current.unifiedMountPoint
  if (!start || !top) return null
  for (let dir = start; dir.startsWith(top) && dir !== top; dir = path.dirname(dir)) {
    const max = readNumber(`${dir}/pids.max`)
    const used = readNumber(`${dir}/pids.current`)
    if (max !== null && used !== null && used + tasksGone >= max) return { dir, max }
  }
  return null
}

function readNumber(file: string): number | null {
  try {
    const text = readFileSync(file, 'utf8').trim()
    return /^\d+$/.test(text) ? Number(text) : null
  } catch {
    return null
  }
}

/**
 * Any error of a launch as a {@link SandboxError}: one that says what ran out when the
 * caller's process, user or host ran out of something, a {@link SandboxError} as it is,
 * and anything else as `ERR_SETUP_FAILED` at the `launch` step.
 */
export function toLaunchError(error: unknown, runningLaunchers: number): SandboxError {
  const errno = exhaustedErrno(error) ?? exhaustedErrno((error as Error | null)?.cause)
  if (errno) return describeExhaustion(errno, readExhaustionFacts(runningLaunchers), error)
  if (isSandboxError(error)) return error
  return new SetupFailedError(
    'launch',
    `nsbox: could not start the launcher: ${(error as Error).message}. Run \`nsbox doctor\`.`,
    { cause: error },
  )
}
