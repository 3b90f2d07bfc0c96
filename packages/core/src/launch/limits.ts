import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { discoverCgroups } from '../cgroup/discover.js'
import { type Enforcement, planEnforcement, watchedLimits } from '../cgroup/enforcement.js'
import { type CgroupShape, cgroupShapeFor, type SandboxCgroup } from '../cgroup/sandbox-cgroup.js'
import { WATCHDOG_INTERVAL_MS, Watchdog } from '../cgroup/watchdog.js'
import type { LimitsSpec, SandboxSpec } from '../options/types.js'
import { debug } from './debug.js'

/** What a sandbox's limits measured once it ended. */
export interface LimitsOutcome {
  /** The limit whose counters say it stopped the command, if any. */
  killedBy: 'memory' | 'pids' | null
  memoryPeak: number | null
  pidsPeak: number | null
  /** CPU milliseconds from the cgroup, or `null` when the sandbox had none. */
  cpuTime: number | null
  enforcement: Enforcement
}

/**
 * The resource limits of one sandbox, from launch to teardown: the cgroup they need
 * (created by the launcher, adopted here before the plan is sent), the watchdog or
 * pids-limit watch while it runs, and the counters and removal after it ends.
 */
export class SandboxLimits {
  /** The cgroup the sandbox needs, or `null` when no limit is enforced by a cgroup. */
  readonly cgroupShape: CgroupShape | null
  readonly #spec: SandboxSpec
  readonly #enforcement: Enforcement
  readonly #cgroupLimits: LimitsSpec
  readonly #watchdogLimits: { memoryBytes: number | null; pids: number | null } | null
  #cgroup: SandboxCgroup | null = null
  #watchdog: Watchdog | null = null
  #pidsWatch: NodeJS.Timeout | undefined

  /** Plans the limits; throws `ERR_LIMIT_UNAVAILABLE`. */
  constructor(spec: SandboxSpec) {
    this.#spec = spec
    const { memoryBytes, pids, cpus } = spec.limits
    const hasLimits = memoryBytes !== null || pids !== null || cpus !== null
    const discovery = hasLimits ? discoverCgroups() : null
    const plan = planEnforcement(spec.limits, spec.enforce, {
      backend: discovery?.bases?.backend ?? null,
      limits: discovery?.bases?.limits ?? new Set(),
      missing: discovery?.missing ?? null,
    })
    this.#enforcement = plan.enforcement
    this.#watchdogLimits = plan.watchdog
    if (plan.watchdog) warnOnce(watchedLimits(plan.enforcement), discovery?.missing ?? null)
    if (cpus !== null && cpus > availableParallelism()) warnCpusAboveHost(cpus)
    // Only the limits a cgroup enforces are written; the watchdog keeps the others.
    const byCgroup = (name: 'memory' | 'pids') => plan.enforcement[name] !== 'watchdog'
    this.#cgroupLimits = {
      memoryBytes: byCgroup('memory') ? memoryBytes : null,
      pids: byCgroup('pids') ? pids : null,
      cpus,
    }
    this.cgroupShape =
      plan.usesCgroup && discovery?.bases
        ? cgroupShapeFor(discovery.bases, this.#cgroupLimits)
        : null
  }

  /**
   * Takes over the cgroup the launcher made from {@link cgroupShape} and writes the limits
   * into it; throws `ERR_SETUP_FAILED`. The sandbox's command has not started yet.
   */
  adopt(cgroup: SandboxCgroup | null): void {
    this.#cgroup = cgroup
    if (!cgroup) return
    cgroup.writeLimits(this.#cgroupLimits)
    if (this.#spec.limits.memoryBytes !== null && !cgroup.isSwapCapped && hostHasSwap()) {
      warnOnce(['swap'], null)
    }
  }

  /** Starts watching a launched sandbox; `onExceeded` is called once a limit is crossed. */
  watch(launcherPid: number, onExceeded: (limit: 'memory' | 'pids') => void): void {
    if (this.#watchdogLimits) {
      this.#watchdog = new Watchdog(launcherPid, this.#watchdogLimits, onExceeded)
    }
    const cgroup = this.#cgroup
    if (cgroup && this.#spec.limits.pids !== null && this.#enforcement.pids !== 'watchdog') {
      // A refused fork does not end a process; nsbox ends the sandbox, as a judge would.
      this.#pidsWatch = setInterval(() => {
        if (cgroup.hasHitPidsLimit()) onExceeded('pids')
      }, WATCHDOG_INTERVAL_MS)
      this.#pidsWatch.unref()
    }
  }

  /** Stops watching, reads the counters and removes the cgroup. */
  async finish(): Promise<LimitsOutcome> {
    clearInterval(this.#pidsWatch)
    const sampled = this.#watchdog?.stop() ?? null
    const usage = this.#cgroup?.readUsage() ?? null
    await this.#cgroup?.destroy()
    const killedBy =
      usage && usage.oomKills > 0 ? 'memory' : usage && usage.pidsLimitHits > 0 ? 'pids' : null
    return {
      killedBy,
      memoryPeak: usage?.memoryPeakBytes ?? sampled?.memoryPeakBytes ?? null,
      pidsPeak: usage?.pidsPeak ?? sampled?.pidsPeak ?? null,
      cpuTime: usage?.cpuTimeMs ?? null,
      enforcement: this.#enforcement,
    }
  }
}

const warned = new Set<string>()

// Said once per process and kind: a test run starts hundreds of sandboxes.
function warnOnce(
  what: readonly ('memory' | 'pids' | 'swap')[],
  missing: { reason: string; fix: string } | null,
): void {
  const key = what.join(',')
  if (warned.has(key)) return
  warned.add(key)
  const message =
    key === 'swap'
      ? 'nsbox: this host has swap on but no swap accounting in cgroups, so the `memory` limit caps RAM only and a sandbox may also use swap. To fix: boot with swapaccount=1, or turn swap off.'
      : `nsbox: the ${what.map((name) => `\`${name}\``).join(' and ')} limit is enforced by nsbox's polling watchdog (every ${WATCHDOG_INTERVAL_MS} ms), not by a cgroup: a burst of allocations or forks can overshoot it between two samples.${missing ? ` This host: ${missing.reason}. To fix: ${missing.fix}.` : ''} Pass \`enforce: 'strict'\` (\`--enforce strict\`) to refuse instead.`
  debug(message)
  process.emitWarning(message, { type: 'NsboxWarning', code: 'NSBOX_WEAK_LIMIT' })
}

// A quota above the host's CPUs does nothing more than no quota: said once per value.
function warnCpusAboveHost(cpus: number): void {
  const key = `cpus=${cpus}`
  if (warned.has(key)) return
  warned.add(key)
  const host = availableParallelism()
  const message = `nsbox: \`cpus: ${cpus}\` is more than the ${host} CPU${host === 1 ? '' : 's'} this process may use, so the sandbox can use at most ${host}. Pass \`cpus\` of ${host} or less.`
  debug(message)
  process.emitWarning(message, { type: 'NsboxWarning', code: 'NSBOX_CPUS_ABOVE_HOST' })
}

function hostHasSwap(): boolean {
  try {
    return readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1
  } catch {
    return false
  }
}
