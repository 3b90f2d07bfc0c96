import { readdir, readFile } from 'node:fs/promises'
import { debug } from '../launch/debug.js'
import { killCgroupProcesses, removeCgroupDir } from './files.js'
import { isOwnerGone, ownIdentity, parseLeafName, parseStartTime } from './names.js'

/** How often, at most, one base directory is looked through for stale cgroups. */
export const REAP_INTERVAL_MS = 1000

const lastReaped = new Map<string, number>()

/**
 * Removes, in the background, the sandbox cgroups under `baseDir` whose owner is gone for
 * sure (a parent killed by SIGKILL never tears its sandboxes down): when this process
 * makes its first sandbox cgroup there, and again at most once a second as it makes more,
 * so that a long-lived process also removes what a crashed sibling left later. Cgroups of
 * an owner in another PID namespace are left to processes of that namespace.
 */
export function reapStaleCgroupsSoon(baseDir: string): void {
  const now = performance.now()
  const last = lastReaped.get(baseDir)
  if (last !== undefined && now - last < REAP_INTERVAL_MS) return
  lastReaped.set(baseDir, now)
  void reap(baseDir)
}

async function reap(baseDir: string): Promise<void> {
  let entries: string[]
  try {
    entries = await readdir(baseDir)
  } catch {
    return
  }
  const self = ownIdentity()
  for (const entry of entries) {
    const owner = parseLeafName(entry)
    if (!owner || !isOwnerGone(owner, self, await startTimeOf(owner.pid))) continue
    const dir = `${baseDir}/${entry}`
    debug(`cgroup: removing ${dir}, which a process that is gone left`)
    killCgroupProcesses(dir)
    await removeCgroupDir(dir)
  }
}

// The start time of a process now: `'gone'` when there is none, `null` when unknown.
async function startTimeOf(pid: number): Promise<number | 'gone' | null> {
  try {
    return parseStartTime(await readFile(`/proc/${pid}/stat`, 'utf8'))
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : null
  }
}
