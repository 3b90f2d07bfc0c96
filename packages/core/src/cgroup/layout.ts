import { readFileSync } from 'node:fs'
import path from 'node:path'

/** The cgroup controllers nsbox uses. `cpuacct` only exists on cgroup v1, for `cpuTime`. */
export type CgroupController = 'memory' | 'pids' | 'cpu' | 'cpuacct'

/** A mounted cgroup hierarchy, from `/proc/self/mountinfo`. */
export interface CgroupMount {
  /** Where it is mounted. */
  mountPoint: string
  /** Which directory of the hierarchy the mount shows (`/` unless bind-mounted). */
  root: string
  version: 1 | 2
  /** The v1 controllers of this hierarchy; empty for cgroup v2. */
  controllers: string[]
}

/** One line of `/proc/self/cgroup`. */
export interface CgroupMembership {
  /** The v1 controllers of the hierarchy; empty for the cgroup v2 line (`0::/…`). */
  controllers: string[]
  /** The cgroup's path inside its hierarchy. */
  path: string
}

/** The directories of the cgroups this process belongs to. */
export interface CurrentCgroups {
  /** The cgroup v2 directory, when a v2 hierarchy is mounted. */
  unified: string | null
  /** Where the cgroup v2 hierarchy is mounted. */
  unifiedMountPoint: string | null
  /** The cgroup v1 directory of each controller that has a v1 hierarchy. */
  legacy: Partial<Record<CgroupController, { mountPoint: string; dir: string }>>
}

const CONTROLLERS: readonly CgroupController[] = ['memory', 'pids', 'cpu', 'cpuacct']

/** Parses the cgroup mounts out of `/proc/self/mountinfo`. Pure. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = []
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ')
    if (!before || !after) continue
    const fields = before.split(' ')
    const [fsType, , superOptions = ''] = after.split(' ')
    const root = fields[3]
    const mountPoint = fields[4]
    if (root === undefined || mountPoint === undefined) continue
    if (fsType === 'cgroup2') {
      mounts.push({ mountPoint: unescapeMountPath(mountPoint), root, version: 2, controllers: [] })
    } else if (fsType === 'cgroup') {
      const controllers = superOptions.split(',').filter((option) => !/^(rw|ro)$/.test(option))
      mounts.push({ mountPoint: unescapeMountPath(mountPoint), root, version: 1, controllers })
    }
  }
  return mounts
}

/** Parses `/proc/self/cgroup`. Pure. */
export function parseCgroupMemberships(procCgroup: string): CgroupMembership[] {
  return procCgroup.split('\n').flatMap((line) => {
    const match = /^\d+:([^:]*):(.*)$/.exec(line)
    if (!match) return []
    const [, controllers = '', cgroupPath = '/'] = match
    return [{ controllers: controllers === '' ? [] : controllers.split(','), path: cgroupPath }]
  })
}

/** Joins mounts and memberships into the directories of this process's cgroups. Pure. */
export function locateCurrentCgroups(
  mounts: readonly CgroupMount[],
  memberships: readonly CgroupMembership[],
): CurrentCgroups {
  const current: CurrentCgroups = { unified: null, unifiedMountPoint: null, legacy: {} }
  const unifiedMembership = memberships.find((entry) => entry.controllers.length === 0)
  const unifiedMount = mounts.find((mount) => mount.version === 2)
  if (unifiedMembership && unifiedMount) {
    current.unified = directoryOf(unifiedMount, unifiedMembership.path)
    current.unifiedMountPoint = unifiedMount.mountPoint
  }
  for (const controller of CONTROLLERS) {
    const mount = mounts.find(
      (entry) => entry.version === 1 && entry.controllers.includes(controller),
    )
    const membership = memberships.find((entry) => entry.controllers.includes(controller))
    if (!mount || !membership) continue
    const dir = directoryOf(mount, membership.path)
    if (dir) current.legacy[controller] = { mountPoint: mount.mountPoint, dir }
  }
  return current
}

/** Reads this process's cgroups from `/proc`. */
export function readCurrentCgroups(): CurrentCgroups {
  try {
    return locateCurrentCgroups(
      parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8')),
      parseCgroupMemberships(readFileSync('/proc/self/cgroup', 'utf8')),
    )
  } catch {
    return { unified: null, unifiedMountPoint: null, legacy: {} }
  }
}

// A mount that shows only a subtree (a container's bind mount) holds the cgroups
// below its root; a cgroup outside that subtree is not reachable through it.
function directoryOf(mount: CgroupMount, cgroupPath: string): string | null {
  if (mount.root === '/') return path.resolve(mount.mountPoint, `.${cgroupPath}`)
  if (cgroupPath !== mount.root && !cgroupPath.startsWith(`${mount.root}/`)) return null
  return path.resolve(mount.mountPoint, `.${cgroupPath.slice(mount.root.length)}`)
}

// mountinfo escapes space, tab, newline and backslash as octal.
function unescapeMountPath(escaped: string): string {
  return escaped.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  )
}
