import { LimitUnavailableError } from '../errors.js'
import type { EnforceMode, LimitsSpec } from '../options/types.js'
import type { CgroupBackend, LimitController } from './sandbox-cgroup.js'

/** What enforces a limit: a cgroup (v2 or v1), or nsbox's own polling watchdog. */
export type EnforcementBackend = CgroupBackend | 'watchdog'

/** Which backend enforces each limit that was set. */
export type Enforcement = Partial<Record<'memory' | 'pids' | 'cpus', EnforcementBackend>>

/** What the host offers, as far as this decision needs it. */
export interface EnforcementHost {
  backend: CgroupBackend | null
  limits: ReadonlySet<LimitController>
  /** Why a cgroup limit is missing here, and the command that fixes it. */
  missing: { reason: string; fix: string } | null
}

/** How a sandbox's limits will be enforced. */
export interface EnforcementPlan {
  enforcement: Enforcement
  /** Whether the sandbox gets a cgroup. */
  usesCgroup: boolean
  /** The limits the watchdog polls for, or `null` when it is not needed. */
  watchdog: { memoryBytes: number | null; pids: number | null } | null
}

/**
 * Decides, per limit, what enforces it. A limit no cgroup can enforce falls back to the
 * watchdog unless `enforce` is `'strict'`; `cpus` has no fallback (a watchdog cannot
 * throttle). Throws `ERR_LIMIT_UNAVAILABLE` rather than run with a weaker limit than
 * asked for. Pure.
 */
export function planEnforcement(
  limits: LimitsSpec,
  mode: EnforceMode,
  host: EnforcementHost,
): EnforcementPlan {
  const enforcement: Enforcement = {}
  const watchdog = { memoryBytes: null as number | null, pids: null as number | null }
  const byCgroup = (controller: LimitController): boolean =>
    host.backend !== null && host.limits.has(controller)
  const fixText = host.missing
    ? ` This host: ${host.missing.reason}. To fix: ${host.missing.fix}.`
    : ''

  if (limits.cpus !== null) {
    if (!byCgroup('cpu') || !host.backend) {
      throw new LimitUnavailableError(
        'cpus',
        `nsbox: the \`cpus\` limit needs a writable cgroup with the cpu controller, and none is available.${fixText} Or remove the \`cpus\` option.`,
      )
    }
    enforcement.cpus = host.backend
  }
  if (limits.memoryBytes !== null) {
    if (byCgroup('memory') && host.backend) enforcement.memory = host.backend
    else {
      enforcement.memory = 'watchdog'
      watchdog.memoryBytes = limits.memoryBytes
    }
  }
  if (limits.pids !== null) {
    if (byCgroup('pids') && host.backend) enforcement.pids = host.backend
    else {
      enforcement.pids = 'watchdog'
      watchdog.pids = limits.pids
    }
  }
  const watched = watchedLimits(enforcement)
  const [firstWatched] = watched
  if (mode === 'strict' && firstWatched) {
    throw new LimitUnavailableError(
      firstWatched,
      `nsbox: the ${watched.map((name) => `\`${name}\``).join(', ')} limit could only be enforced by nsbox's polling watchdog, and \`enforce: 'strict'\` refuses that.${fixText}`,
    )
  }
  const usesCgroup = Object.values(enforcement).some((backend) => backend !== 'watchdog')
  return { enforcement, usesCgroup, watchdog: firstWatched ? watchdog : null }
}

/** The limits a plan leaves to the watchdog. */
export function watchedLimits(enforcement: Enforcement): ('memory' | 'pids')[] {
  return (['memory', 'pids'] as const).filter((name) => enforcement[name] === 'watchdog')
}
