import { formatDuration } from '../options/duration.js'
import { normalizeAnyOptions } from '../options/normalize.js'
import { formatSize } from '../options/size.js'
import type { RunOptions, SandboxOptions, SpawnOptions } from '../options/types.js'
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

/**
 * Says which limit ended a sandbox, as nsbox prints it:
 * `memory limit 256 MiB exceeded (peak 256.0 MiB)`, `pids limit 64 reached`,
 * `timeout 30 s exceeded`; `undefined` when no limit ended it. For integrations that
 * report a killed sandbox in their own words.
 *
 * @param result - The sandbox's result.
 * @param options - The options it was started with, as given to `run()` or `spawn()` (for
 *   the limits' values).
 *
 * @example
 * ```ts
 * import { killReason, run } from '@nsbox/core'
 *
 * const options = { memory: '64M' }
 * const result = await run('node', ['-e', 'Buffer.alloc(1e9, 1)'], options)
 * killReason(result, options) // 'memory limit 64 MiB exceeded (peak 64.0 MiB)'
 * ```
 */
export function killReason(
  result: Pick<SandboxResult, 'killedBy' | 'memoryPeak' | 'pidsPeak'>,
  options: SandboxOptions | RunOptions | SpawnOptions,
): string | undefined {
  const spec = normalizeAnyOptions(options)
  return describeKill(result, {
    timeoutMs: spec.timeoutMs,
    memoryBytes: spec.limits.memoryBytes,
    pids: spec.limits.pids,
  })
}

// Peaks keep one decimal even when round, so they read as measurements: "256.0 MiB".
function formatPeak(bytes: number): string {
  const [amount = '0', unit = 'bytes'] = formatSize(bytes).split(' ')
  return unit === 'bytes' ? `${amount} bytes` : `${Number(amount).toFixed(1)} ${unit}`
}
