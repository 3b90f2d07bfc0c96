import { readdirSync, readFileSync } from 'node:fs'
import { killCgroupProcesses, tryRemoveCgroupDir } from './files.js'

/**
 * Sandbox cgroups are named `nsbox-<owner pid>-<owner start time>-<sequence>`: the owner's
 * start time tells a crashed owner from a new process that got the same PID.
 */
const LEAF_PATTERN = /^nsbox-(\d+)-(\d+)-\d+$/

/** The leaf every process moves into when a delegated cgroup v2 subtree needs emptying. */
export const HOST_LEAF_NAME = 'nsbox-host'

let sequence = 0

/** A fresh name for a sandbox cgroup owned by this process. */
export function nextLeafName(): string {
  sequence += 1
  return `nsbox-${process.pid}-${processStartTime(process.pid) ?? 0}-${sequence}`
}

/** The owner a sandbox cgroup name records, or `null` for names nsbox did not make. */
export function parseLeafName(name: string): { pid: number; startTime: number } | null {
  const match = LEAF_PATTERN.exec(name)
  if (!match) return null
  return { pid: Number(match[1]), startTime: Number(match[2]) }
}

/** A process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22). */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses; fields after it do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const startTime = Number(fields[19])
    return Number.isFinite(startTime) ? startTime : null
  } catch {
    return null
  }
}

const reapedBases = new Set<string>()

/**
 * Removes the sandbox cgroups under `baseDir` whose owner process is gone (a parent
 * that was killed never tore them down). Runs once per base directory per process.
 */
export function reapStaleCgroups(baseDir: string): void {
  if (reapedBases.has(baseDir)) return
  reapedBases.add(baseDir)
  let entries: string[]
  try {
    entries = readdirSync(baseDir)
  } catch {
    return
  }
  for (const entry of entries) {
    const owner = parseLeafName(entry)
    if (!owner || processStartTime(owner.pid) === owner.startTime) continue
    const dir = `${baseDir}/${entry}`
    if (!tryRemoveCgroupDir(dir)) {
      killCgroupProcesses(dir)
      tryRemoveCgroupDir(dir)
    }
  }
}
