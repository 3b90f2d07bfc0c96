import { accessSync, constants, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
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

/** Removes a cgroup and the cgroups below it, waiting for their killed processes to be gone. */
export async function removeCgroupDir(dir: string): Promise<boolean> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (tryRemoveCgroupDir(dir)) return true
    killCgroupProcesses(dir)
    await sleep(attempt < 20 ? 1 : 10)
  }
  debug(`cgroup: could not remove ${dir}; the next nsbox start will`)
  return false
}

/** One attempt at removing a cgroup and the cgroups below it; `true` when all are gone. */
export function tryRemoveCgroupDir(dir: string): boolean {
  return cgroupTree(dir).every((each) => {
    try {
      rmdirSync(each)
      debug(`cgroup: removed ${each}`)
      return true
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT'
    }
  })
}
