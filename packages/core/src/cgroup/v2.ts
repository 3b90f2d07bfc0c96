import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { debug } from '../launch/debug.js'
import { cgroupProcesses, isWritableCgroup, readCgroupFile, writeCgroupFile } from './files.js'
import { HOST_LEAF_NAME } from './names.js'
import type { CgroupBases, LimitController } from './sandbox-cgroup.js'

/** The controllers nsbox enables for sandbox cgroups. */
export const LIMIT_CONTROLLERS: readonly LimitController[] = ['memory', 'pids', 'cpu']

/**
 * Finds a cgroup v2 directory this process may create sandbox cgroups in: its own
 * cgroup when that is delegated (a systemd `Delegate=yes` scope, a container's own
 * cgroup namespace, root), or the parent of the `nsbox-host` leaf a previous start
 * moved it into. Enables `memory`, `pids` and `cpu` there for the sandboxes; when the
 * no-internal-processes rule forbids that, first moves the directory's processes into
 * the `nsbox-host` leaf. Returns `null` when nothing here is writable.
 */
export function findCgroupV2Bases(currentDir: string): CgroupBases | null {
  const base = path.basename(currentDir) === HOST_LEAF_NAME ? path.dirname(currentDir) : currentDir
  if (!isWritableCgroup(base) || !isWritableCgroup(currentDir)) return null
  const available = words(readCgroupFile(`${base}/cgroup.controllers`))
  const wanted = LIMIT_CONTROLLERS.filter((controller) => available.has(controller))
  if (!enableControllers(base, wanted)) {
    moveProcessesIntoLeaf(base)
    enableControllers(base, wanted)
  }
  const enabled = words(readCgroupFile(`${base}/cgroup.subtree_control`))
  return {
    backend: 'cgroup2',
    // cpu.stat (for cpuTime) exists in every v2 cgroup, with or without the cpu controller.
    bases: { memory: base, pids: base, cpu: base },
    limits: new Set(LIMIT_CONTROLLERS.filter((controller) => enabled.has(controller))),
  }
}

/** Enables controllers for `base`'s children; `false` when processes living in `base` forbid it (EBUSY). */
export function enableControllers(base: string, controllers: readonly LimitController[]): boolean {
  const enabled = words(readCgroupFile(`${base}/cgroup.subtree_control`))
  for (const controller of controllers) {
    if (enabled.has(controller)) continue
    try {
      writeCgroupFile(`${base}/cgroup.subtree_control`, `+${controller}`)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EBUSY') return false
      debug(`cgroup: cannot enable ${controller} in ${base}: ${(error as Error).message}`)
    }
  }
  return true
}

/**
 * Moves every process of `base` into its `nsbox-host` leaf: cgroup v2 lets a cgroup with
 * processes of its own not hand controllers to its children, so they move one level down
 * first, as systemd and crun do.
 */
export function moveProcessesIntoLeaf(base: string): void {
  const leaf = `${base}/${HOST_LEAF_NAME}`
  mkdirSync(leaf, { recursive: true })
  debug(`cgroup: moving the processes of ${base} into ${leaf}`)
  for (let round = 0; round < 10; round++) {
    const pids = cgroupProcesses(base)
    if (pids.length === 0) return
    for (const pid of pids) {
      try {
        writeCgroupFile(`${leaf}/cgroup.procs`, String(pid))
      } catch {
        // it exited meanwhile
      }
    }
  }
}

function words(text: string | null): Set<string> {
  return new Set((text ?? '').split(/\s+/).filter((word) => word !== ''))
}
