import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { SetupFailedError } from '../errors.js'
import { debug } from '../launch/debug.js'
import { removeCgroupDir, writeCgroupFile } from './files.js'
import { readCurrentCgroups } from './layout.js'
import { HOST_LEAF_NAME } from './names.js'
import { delegatedV1Dir } from './v1.js'
import { enableControllers, LIMIT_CONTROLLERS, moveProcessesIntoLeaf } from './v2.js'

/** The account a delegation is for. */
export interface DelegateUser {
  name: string
  uid: number
  gid: number
}

// The files a delegated user must own, as systemd's Delegate=yes hands them over.
const DELEGATED_FILES = ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads', 'tasks']

/**
 * cgroup v1: creates `<hierarchy>/nsbox/user-<uid>` in each hierarchy nsbox uses and
 * hands it to the user. It lasts until reboot or {@link undelegateV1}; any process of
 * that user can then create sandbox cgroups there. Returns the directories.
 */
export function delegateV1(user: DelegateUser): string[] {
  const dirs: string[] = []
  for (const hierarchy of Object.values(readCurrentCgroups().legacy)) {
    const dir = delegatedV1Dir(hierarchy.mountPoint, user.uid)
    if (dirs.includes(dir)) continue
    mkdirSync(dir, { recursive: true })
    handOver(dir, user)
    dirs.push(dir)
  }
  return dirs
}

/** cgroup v1: removes what {@link delegateV1} made, killing any sandbox still inside. */
export async function undelegateV1(user: DelegateUser): Promise<string[]> {
  const dirs = [
    ...new Set(
      Object.values(readCurrentCgroups().legacy).map((hierarchy) =>
        delegatedV1Dir(hierarchy.mountPoint, user.uid),
      ),
    ),
  ].filter((dir) => existsSync(dir))
  for (const dir of dirs) await removeTree(dir)
  return dirs
}

/** Whether cgroup v1 hierarchies hold the controllers nsbox uses (hybrid or legacy host). */
export function isCgroupV1Host(): boolean {
  const { legacy } = readCurrentCgroups()
  return legacy.memory !== undefined || legacy.pids !== undefined
}

/**
 * cgroup v2: creates `<root>/nsbox/user-<uid>-<pid>` with `memory`, `pids` and `cpu`
 * enabled, owned by the user the way systemd's `Delegate=yes` delegates (the directory
 * and its `cgroup.procs`, `cgroup.subtree_control`, `cgroup.threads`), plus the
 * `nsbox-host` leaf the delegated command starts in. Returns the delegated directory
 * and that leaf.
 */
export function delegateV2(user: DelegateUser): { dir: string; leaf: string } {
  const root = readCurrentCgroups().unifiedMountPoint
  if (!root) {
    throw new SetupFailedError(
      'delegate',
      'nsbox delegate: no cgroup v2 hierarchy is mounted here. Mount one (sudo mount -t cgroup2 none /sys/fs/cgroup), or run `nsbox doctor`.',
    )
  }
  const parent = `${root}/nsbox`
  if (!enableControllers(root, LIMIT_CONTROLLERS)) {
    moveProcessesIntoLeaf(root)
    enableControllers(root, LIMIT_CONTROLLERS)
  }
  mkdirSync(parent, { recursive: true })
  enableControllers(parent, LIMIT_CONTROLLERS)
  const dir = `${parent}/user-${user.uid}-${process.pid}`
  mkdirSync(dir)
  enableControllers(dir, LIMIT_CONTROLLERS)
  const leaf = `${dir}/${HOST_LEAF_NAME}`
  mkdirSync(leaf)
  handOver(dir, user)
  handOver(leaf, user)
  return { dir, leaf }
}

/** Kills everything under a cgroup directory and removes it, deepest first. */
export async function removeTree(dir: string): Promise<void> {
  let children: string[] = []
  try {
    children = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => path.join(dir, entry.name))
  } catch {
    return
  }
  for (const child of children) await removeTree(child)
  await removeCgroupDir(dir)
}

/** Moves a process into a cgroup v2 directory. */
export function moveProcess(pid: number, dir: string): void {
  writeCgroupFile(`${dir}/cgroup.procs`, String(pid))
}

function handOver(dir: string, user: DelegateUser): void {
  debug(`cgroup: handing ${dir} to uid ${user.uid}`)
  chownSync(dir, user.uid, user.gid)
  for (const file of DELEGATED_FILES) {
    if (existsSync(`${dir}/${file}`)) chownSync(`${dir}/${file}`, user.uid, user.gid)
  }
}
