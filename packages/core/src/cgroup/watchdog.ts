import { readdirSync, readFileSync } from 'node:fs'

/** How often the watchdog samples the sandbox's processes. */
export const WATCHDOG_INTERVAL_MS = 50

/** What the watchdog saw over a sandbox's life. */
export interface WatchdogUsage {
  /** Highest sampled sum of the processes' resident memory. */
  memoryPeakBytes: number
  /** Highest sampled number of tasks (processes and threads). */
  pidsPeak: number
}

/** One sample of a process tree. */
export interface TreeSample {
  residentBytes: number
  tasks: number
}

/**
 * Best-effort enforcement where no cgroup is writable: samples the resident memory and
 * task count of every process under the sandbox's launcher every 50 ms, and calls
 * `onExceeded` once when a sample is over a limit. Memory allocated faster than that
 * can overshoot the cap until the next sample, which is why results say `'watchdog'`.
 */
export class Watchdog {
  readonly #rootPid: number
  readonly #limits: { memoryBytes: number | null; pids: number | null }
  readonly #timer: NodeJS.Timeout
  readonly #usage: WatchdogUsage = { memoryPeakBytes: 0, pidsPeak: 0 }
  #hasFired = false

  constructor(
    rootPid: number,
    limits: { memoryBytes: number | null; pids: number | null },
    onExceeded: (limit: 'memory' | 'pids') => void,
  ) {
    this.#rootPid = rootPid
    this.#limits = limits
    this.#timer = setInterval(() => {
      const limit = this.#sample()
      if (limit && !this.#hasFired) {
        this.#hasFired = true
        onExceeded(limit)
      }
    }, WATCHDOG_INTERVAL_MS)
    this.#timer.unref()
  }

  /** Stops sampling and returns the peaks seen. */
  stop(): WatchdogUsage {
    clearInterval(this.#timer)
    return { ...this.#usage }
  }

  #sample(): 'memory' | 'pids' | null {
    const sample = sampleProcessTree(this.#rootPid)
    this.#usage.memoryPeakBytes = Math.max(this.#usage.memoryPeakBytes, sample.residentBytes)
    this.#usage.pidsPeak = Math.max(this.#usage.pidsPeak, sample.tasks)
    const { memoryBytes, pids } = this.#limits
    if (memoryBytes !== null && sample.residentBytes > memoryBytes) return 'memory'
    if (pids !== null && sample.tasks > pids) return 'pids'
    return null
  }
}

/**
 * Sums resident memory and tasks over a process and all its descendants, found through
 * `/proc/<pid>/task/<tid>/children`. The launcher itself is left out: it is not part of
 * the sandbox. Orphans stay in the tree because the sandbox's init adopts them.
 */
export function sampleProcessTree(rootPid: number): TreeSample {
  const sample: TreeSample = { residentBytes: 0, tasks: 0 }
  const pending = childrenOf(rootPid)
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    const status = readProcFile(`/proc/${pid}/status`)
    if (status === null) continue
    sample.residentBytes += statusField(status, 'VmRSS') * 1024
    sample.tasks += statusField(status, 'Threads')
    pending.push(...childrenOf(pid))
  }
  return sample
}

function childrenOf(pid: number): number[] {
  let threads: string[]
  try {
    threads = readdirSync(`/proc/${pid}/task`)
  } catch {
    return []
  }
  return threads.flatMap((tid) =>
    (readProcFile(`/proc/${pid}/task/${tid}/children`) ?? '')
      .split(' ')
      .filter((child) => child !== '' && child !== '\n')
      .map(Number),
  )
}

function statusField(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)
  return match ? Number(match[1]) : 0
}

function readProcFile(file: string): string | null {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return null
  }
}
