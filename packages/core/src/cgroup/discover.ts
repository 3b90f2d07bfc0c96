import { existsSync } from 'node:fs'
import { asRootCommand, currentFixContext, nsboxArgv } from '../probe/fix-command.js'
import { findExecutable } from '../probe/tools.js'
import { userName } from './files.js'
import { type CurrentCgroups, readCurrentCgroups } from './layout.js'
import type { CgroupBases, LimitController } from './sandbox-cgroup.js'
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
  /** Why some limit cannot be enforced by a cgroup here, and the command that fixes it. */
  missing: { reason: string; fix: string } | null
}

let cached: CgroupDiscovery | undefined

/**
 * Finds where this process can create sandbox cgroups. The first call may move this
 * process into a leaf cgroup (cgroup v2's no-internal-processes rule); later calls
 * return the same answer.
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
      missing: missingFrom(bases, () => ({
        reason: `this user may not create cgroups in the cgroup v1 hierarchies (its memory cgroup is ${legacyMemory.dir})`,
        fix: delegateFix(),
      })),
    }
  }
  if (current.unified) {
    const currentDir = current.unified
    let bases: CgroupBases | null = null
    try {
      bases = findCgroupV2Bases(currentDir)
    } catch (error) {
      // A subtree that looked writable but refused a change: no cgroup, and say why.
      return {
        version: 2,
        currentDir,
        bases: null,
        missing: {
          reason: `preparing ${currentDir} for sandbox cgroups failed (${(error as Error).message})`,
          fix: cgroupV2Fix(),
        },
      }
    }
    return {
      version: 2,
      currentDir,
      bases,
      missing: missingFrom(bases, () => ({
        reason: `this process's cgroup ${currentDir} is not delegated to this user`,
        fix: cgroupV2Fix(),
      })),
    }
  }
  return {
    version: null,
    currentDir: null,
    bases: null,
    missing: {
      reason: 'no cgroup filesystem is mounted',
      fix: 'sudo mount -t cgroup2 none /sys/fs/cgroup',
    },
  }
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
