import type { LimitsSpec } from '../options/types.js'

/** A file write that sets one limit in a sandbox's cgroup. */
export interface CgroupWrite {
  /** The controller the file belongs to (on cgroup v1, the hierarchy to write in). */
  controller: 'memory' | 'pids' | 'cpu'
  /** The file, relative to the sandbox's cgroup directory. */
  file: string
  value: string
}

/** Which optional cgroup files exist on this host. */
export interface CgroupFileSupport {
  /** v2 `memory.swap.max` / v1 `memory.memsw.limit_in_bytes` (swap accounting is on). */
  canLimitSwap: boolean
}

/** CFS period nsbox uses for `cpus`: 100 ms, the kernel's default. */
export const CPU_PERIOD_US = 100_000

/** The smallest `cpus` value: the kernel refuses a CFS quota under 1 ms. */
export const MIN_CPUS = 0.01

/**
 * Turns limits into the cgroup file writes that set them, in the order they must be
 * written (v1 refuses a memory+swap limit below the memory limit). Pure.
 */
export function planCgroupWrites(
  limits: LimitsSpec,
  version: 1 | 2,
  support: CgroupFileSupport,
): CgroupWrite[] {
  const writes: CgroupWrite[] = []
  const { memoryBytes, pids, cpus } = limits
  if (memoryBytes !== null) {
    const bytes = String(memoryBytes)
    if (version === 2) {
      writes.push({ controller: 'memory', file: 'memory.max', value: bytes })
      if (support.canLimitSwap) {
        writes.push({ controller: 'memory', file: 'memory.swap.max', value: '0' })
      }
    } else {
      writes.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: bytes })
      if (support.canLimitSwap) {
        writes.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: bytes })
      }
    }
  }
  if (pids !== null) writes.push({ controller: 'pids', file: 'pids.max', value: String(pids) })
  if (cpus !== null) {
    const quota = String(Math.round(cpus * CPU_PERIOD_US))
    if (version === 2) {
      writes.push({ controller: 'cpu', file: 'cpu.max', value: `${quota} ${CPU_PERIOD_US}` })
    } else {
      writes.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US) })
      writes.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: quota })
    }
  }
  return writes
}

/** What a sandbox's cgroup counters say, once it has ended. */
export interface CgroupUsage {
  /** Processes the kernel's OOM killer killed in the cgroup. */
  oomKills: number
  /** Forks refused because of `pids.max`. */
  pidsLimitHits: number
  memoryPeakBytes: number | null
  pidsPeak: number | null
  cpuTimeMs: number | null
}

/** Parses a flat-keyed cgroup file (`memory.events`, `memory.oom_control`, `cpu.stat`). Pure. */
export function parseKeyedCounters(text: string): Map<string, number> {
  const counters = new Map<string, number>()
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/)
    if (key && value !== undefined && /^\d+$/.test(value)) counters.set(key, Number(value))
  }
  return counters
}
