import { isWritableCgroup } from './files.js'
import type { CurrentCgroups } from './layout.js'
import type { CgroupBases, LimitController } from './sandbox-cgroup.js'

/**
 * The directory `nsbox delegate --user` creates in each cgroup v1 hierarchy, owned by
 * that user: `<hierarchy>/nsbox/user-<uid>`.
 */
export function delegatedV1Dir(mountPoint: string, uid: number): string {
  return `${mountPoint}/nsbox/user-${uid}`
}

/**
 * Finds, in each cgroup v1 hierarchy nsbox uses, a directory this process may create
 * sandbox cgroups in: its own cgroup when writable (root), else the one
 * `nsbox delegate` made for this user. Returns `null` when none is writable.
 */
export function findCgroupV1Bases(current: CurrentCgroups, uid: number): CgroupBases | null {
  const bases: CgroupBases['bases'] = {}
  for (const [controller, hierarchy] of Object.entries(current.legacy)) {
    const writable = [hierarchy.dir, delegatedV1Dir(hierarchy.mountPoint, uid)].find((dir) =>
      isWritableCgroup(dir),
    )
    if (writable) bases[controller as keyof CgroupBases['bases']] = writable
  }
  const limits = new Set(
    (['memory', 'pids', 'cpu'] as const).filter((controller) => bases[controller] !== undefined),
  )
  if (limits.size === 0) return null
  return { backend: 'cgroup1', bases, limits: limits as Set<LimitController> }
}
