import { formatDuration } from '../options/duration.js'
import { formatSize } from '../options/size.js'
import type { SandboxResult } from './result.js'

/** The limits a kill message names, as normalized values. */
export interface KillLimits {
  timeoutMs: number | null
  memoryBytes: number | null
  pids: number | null
}

/**
 * Says which limit ended a sandbox, for one line of output:
 * `memory limit 256 MiB exceeded (peak 256.0 MiB)`, `pids limit 64 reached`,
 * `timeout 30 s exceeded`. `undefined` when no limit ended it. Pure.
 */
export function describeKill(
  result: Pick<SandboxResult, 'killedBy' | 'memoryPeak' | 'pidsPeak'>,
  limits: KillLimits,
): string | undefined {
  switch (result.killedBy) {
    case 'timeout':
      return limits.timeoutMs === null
        ? 'timeout exceeded'
        : `timeout ${formatDuration(limits.timeoutMs)} exceeded`
    case 'memory': {
      const limit = limits.memoryBytes === null ? '' : ` ${formatSize(limits.memoryBytes)}`
      const peak = result.memoryPeak === null ? '' : ` (peak ${formatPeak(result.memoryPeak)})`
      return `memory limit${limit} exceeded${peak}`
    }
    case 'pids': {
      const limit = limits.pids === null ? '' : ` ${limits.pids}`
      return `pids limit${limit} reached`
    }
    default:
      return undefined
  }
}

// Peaks keep one decimal even when round, so they read as measurements: "256.0 MiB".
function formatPeak(bytes: number): string {
  const [amount = '0', unit = 'bytes'] = formatSize(bytes).split(' ')
  return unit === 'bytes' ? `${amount} bytes` : `${Number(amount).toFixed(1)} ${unit}`
}
