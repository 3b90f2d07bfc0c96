import {
  accessSync,
  constants,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { userInfo } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { debug } from '../launch/debug.js'

/** Reads a cgroup file, or `null` when it does not exist or cannot be read. */
export function readCgroupFile(file: string): string | null {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

/** Writes a cgroup file, printing the write under `NSBOX_DEBUG`. Throws the system error. */
export function writeCgroupFile(file: string, value: string): void {
  debug(`cgroup: ${file} <- ${value}`)
  writeFileSync(file, value)
}

/** Whether this process may create child cgroups in `dir` and move processes into them. */
export function isWritableCgroup(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK)
    accessSync(`${dir}/cgroup.procs`, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/** The PIDs in a cgroup (`cgroup.procs`), empty when it is gone. */
export function cgroupProcesses(dir: string): number[] {
  const text = readCgroupFile(`${dir}/cgroup.procs`) ?? ''
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map(Number)
}

/**
 * A cgroup and every cgroup below it, deepest first: the order they can be removed in.
 * A sandbox may have made child cgroups of its own (in a cgroup namespace it created).
 */
export function cgroupTree(dir: string): string[] {
  let children: string[]
  try {
    children = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${dir}/${entry.name}`)
  } catch (error) {
    // Gone; or unreadable for now (out of descriptors): then at least the cgroup itself.
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? [] : [dir]
  }
  return [...children.flatMap(cgroupTree), dir]
}

/**
 * Kills every process in a cgroup and below it: `cgroup.kill` where the kernel has it
 * (v2, 5.14+), else SIGKILL to each PID until none is left (new ones may fork meanwhile).
 */
export function killCgroupProcesses(dir: string): void {
  try {
    writeFileSync(`${dir}/cgroup.kill`, '1')
    return
  } catch {
    // cgroup v1, or a kernel older than 5.14
  }
  for (let round = 0; round < 100; round++) {
    const pids = cgroupTree(dir).flatMap(cgroupProcesses)
    if (pids.length === 0) return
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Removes a cgroup and the cgroups below it, waiting for their killed processes to be
 * gone. Gives up at once, with a warning, when this user may no longer remove it.
 */
export async function removeCgroupDir(dir: string): Promise<boolean> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const outcome = removeOnce(dir)
    if (outcome === 'gone') return true
    if (outcome !== 'busy') {
      warnCgroupLeft(dir, outcome)
      return false
    }
    killCgroupProcesses(dir)
    await sleep(attempt < 20 ? 1 : 10)
  }
  debug(`cgroup: could not remove ${dir}; the next nsbox start will`)
  return false
}

/**
 * One attempt at removing a cgroup and the cgroups below it (`tree`, deepest first, when
 * already listed); `true` when all are gone.
 */
export function tryRemoveCgroupDir(dir: string, tree?: string[]): boolean {
  return removeOnce(dir, tree) === 'gone'
}

// `'busy'` while processes are still leaving it (EBUSY); any other error as it is.
function removeOnce(dir: string, tree = cgroupTree(dir)): 'gone' | 'busy' | NodeJS.ErrnoException {
  for (const each of tree) {
    try {
      rmdirSync(each)
      debug(`cgroup: removed ${each}`)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') continue
      return code === 'EBUSY' ? 'busy' : (error as NodeJS.ErrnoException)
    }
  }
  return 'gone'
}

const warnedParents = new Set<string>()

// Said once per parent directory: every sandbox there would say the same.
function warnCgroupLeft(dir: string, error: NodeJS.ErrnoException): void {
  const parent = path.dirname(dir)
  if (warnedParents.has(parent)) return
  warnedParents.add(parent)
  const owner = ownerOf(parent)
  const uid = process.getuid?.()
  const changed =
    owner !== null && owner !== uid
      ? `: ${parent} belongs to uid ${owner} now, not to this user (uid ${uid}), so its delegation was changed`
      : ''
  const message = `nsbox: could not remove the sandbox cgroup ${dir} (${error.code})${changed}. It is empty; remove it as its owner (\`sudo rmdir ${dir}\`), and give this user its cgroups back with \`sudo nsbox delegate --user ${userName()}\`. Until then, this and later sandboxes leave their cgroups there.`
  debug(message)
  process.emitWarning(message, { type: 'NsboxWarning', code: 'NSBOX_CGROUP_LEFT' })
}

/** The uid that owns `file`, or `null` when it cannot be read. */
export function ownerOf(file: string): number | null {
  try {
    return statSync(file).uid
  } catch {
    return null
  }
}

/** This user's name for the fixes nsbox prints, or `$USER` when it has none. */
export function userName(): string {
  try {
    return userInfo().username
  } catch {
    return '$USER'
  }
}
