import { LimitUnavailableError } from '../errors.js'
import type { LimitsSpec } from '../options/types.js'

/**
 * Refuses limits this version cannot enforce, rather than running without them:
 * a sandbox must never be silently weaker than asked for.
 */
export function assertLimitsEnforceable(limits: LimitsSpec): void {
  const asked = (['memory', 'pids', 'cpus'] as const).filter((name) => {
    const value = name === 'memory' ? limits.memoryBytes : limits[name]
    return value !== null
  })
  const [first] = asked
  if (first) {
    throw new LimitUnavailableError(
      first,
      `nsbox: the ${asked.map((name) => `\`${name}\``).join(', ')} limit${asked.length > 1 ? 's are' : ' is'} not enforced by this version of nsbox (cgroup limits are not implemented yet). Remove the option, or enforce the limit outside nsbox.`,
    )
  }
}
