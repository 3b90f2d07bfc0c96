import { existsSync } from 'node:fs'
import { debug } from '../launch/debug.js'
import { asRootCommand, currentFixContext, nsboxArgv } from '../probe/fix-command.js'
import { findExecutable } from '../probe/tools.js'
import { userName } from './files.js'
import { type CurrentCgroups, readCurrentCgroups } from './layout.js'
import type { CgroupBases, LimitController } from './sandbox-cgroup.js'
import { enterSystemdScope, readSystemdScopeFacts } from './systemd-scope.js'
import { decideSystemdScope } from './systemd-scope-plan.js'
import { findCgroupV1Bases } from './v1.js'
import { findCgroupV2Bases } from './v2.js'

/** What nsbox found out about cgroups on this host, for this process. */
export interface CgroupDiscovery {
  /** The cgroup version of the `memory` controller, or `null` with no cgroups at all. */
  version: 1 | 2 | null
  /** This process's own cgroup (v2) or `memory` cgroup (v1). */
  currentDir: string | null
  /** Where sandbox cgroups go, or `null` when nothing here is writable. */
  bases: CgroupBases | null
  /**
   * The transient systemd user scope (`Delegate=yes`) nsbox moved this process into
   * because its own cgroup v2 cgroup was not delegated, or `null`.
   */
  systemdScope: string | null
  /** Why some limit cannot be enforced by a cgroup here, and the command that fixes it. */
  missing: { reason: string; fix: string } | null
}

let cached: CgroupDiscovery | undefined

/**
 * Finds where this process can create sandbox cgroups. The first call may move this
 * process into a leaf cgroup (cgroup v2's no-internal-processes rule), and, on cgroup v2
 * in a cgroup this user may not write, first into a delegated systemd user scope (unless
 * `NSBOX_SYSTEMD_SCOPE=0`); later calls return the same answer.
 */
export function discoverCgroups(): CgroupDiscovery {
  cached ??= discover(readCurrentCgroups(), process.getuid?.() ?? 0)
  return cached
}

function discover(current: CurrentCgroups, uid: number): CgroupDiscovery {
  const legacyMemory = current.legacy.memory ?? current.legacy.pids
  if (legacyMemory) {
    const bases = findCgroupV1Bases(current, uid)
    return {
      version: 1,
      currentDir: legacyMemory.dir,
      bases,
      systemdScope: null,
      missing: missingFrom(bases, () => ({
        reason: `this user may not create cgroups in the cgroup v1 hierarchies (its memory cgroup is ${legacyMemory.dir})`,
        fix: delegateFix(),
      })),
    }
  }
  if (current.unified) {
    const own = discoverV2(current.unified)
    return own.isUndelegated ? viaSystemdScope(own.discovery) : own.discovery
  }
  return {
    version: null,
    currentDir: null,
    bases: null,
    systemdScope: null,
    missing: {
      reason: 'no cgroup filesystem is mounted',
      fix: 'sudo mount -t cgroup2 none /sys/fs/cgroup',
    },
  }
}

function discoverV2(currentDir: string): {
  discovery: CgroupDiscovery
  bases: CgroupBases | null
  /** Whether nothing here is writable (rather than writable but refusing a change). */
  isUndelegated: boolean
} {
  let bases: CgroupBases | null = null
  try {
    bases = findCgroupV2Bases(currentDir)
  } catch (error) {
    // A subtree that looked writable but refused a change: no cgroup, and say why.
    const discovery: CgroupDiscovery = {
      version: 2,
      currentDir,
      bases: null,
      systemdScope: null,
      missing: {
        reason: `preparing ${currentDir} for sandbox cgroups failed (${(error as Error).message})`,
        fix: cgroupV2Fix(),
      },
    }
    return { discovery, bases: null, isUndelegated: false }
  }
  const discovery: CgroupDiscovery = {
    version: 2,
    currentDir,
    bases,
    systemdScope: null,
    missing: missingFrom(bases, () => ({
      reason: `this process's cgroup ${currentDir} is not delegated to this user`,
      fix: cgroupV2Fix(),
    })),
  }
  return { discovery, bases, isUndelegated: bases === null }
}

/**
 * For a process in a cgroup v2 cgroup it may not write (a login session's scope, a
 * service): has the user's systemd manager move it into a delegated transient scope, and
 * finds the sandbox cgroups' place there. When that is not possible, the undelegated
 * answer stands, with the reason added.
 */
function viaSystemdScope(undelegated: CgroupDiscovery): CgroupDiscovery {
  const decision = decideSystemdScope(readSystemdScopeFacts())
  const withReason = (why: string): CgroupDiscovery => ({
    ...undelegated,
    missing: undelegated.missing && {
      ...undelegated.missing,
      reason: `${undelegated.missing.reason}, and ${why}`,
    },
  })
  if (!decision.use) return decision.why === null ? undelegated : withReason(decision.why)
  let unit: string
  try {
    unit = enterSystemdScope(decision.busctl)
  } catch (error) {
    debug(`cgroup: no systemd user scope: ${(error as Error).message}`)
    return withReason((error as Error).message)
  }
  const scopeDir = readCurrentCgroups().unified
  if (scopeDir === null) return withReason(`${unit} has no cgroup v2 directory`)
  const { discovery } = discoverV2(scopeDir)
  return { ...discovery, systemdScope: unit }
}

function missingFrom(
  bases: CgroupBases | null,
  notWritable: () => { reason: string; fix: string },
): CgroupDiscovery['missing'] {
  if (!bases) return notWritable()
  const absent = (['memory', 'pids', 'cpu'] as LimitController[]).filter(
    (controller) => !bases.limits.has(controller),
  )
  if (absent.length === 0) return null
  return {
    reason: `the ${absent.join(', ')} controller${absent.length > 1 ? 's are' : ' is'} not available in ${Object.values(bases.bases)[0] ?? 'the cgroup'}`,
    fix: bases.backend === 'cgroup2' ? cgroupV2Fix() : delegateFix(),
  }
}

/** The fix for an undelegated cgroup v2 process: a systemd scope when a user manager runs. */
export function cgroupV2Fix(): string {
  const runtimeDir = process.env.XDG_RUNTIME_DIR
  const hasUserManager =
    runtimeDir !== undefined &&
    existsSync(`${runtimeDir}/systemd/private`) &&
    findExecutable('systemd-run') !== undefined
  return hasUserManager
    ? 'run your command as: systemd-run --user --scope -p Delegate=yes -- <command>'
    : `run your command as: ${asRootCommand(nsboxArgv(['delegate', '--user', userName(), '--']), currentFixContext(), '<command>')}`
}

// `nsbox delegate` for this user, runnable as pasted (cgroup v1: once per boot).
function delegateFix(): string {
  return asRootCommand(nsboxArgv(['delegate', '--user', userName()]), currentFixContext())
}
