import { readdirSync } from 'node:fs'

/**
 * The sandbox cgroups that a process with PID `ownerPid` created and left under
 * `parents` (sandbox cgroup names start with `nsbox-<owner pid>-`).
 */
export function sandboxCgroupsOf(ownerPid: number, parents: readonly string[]): string[] {
  return parents.flatMap((parent) => {
    try {
      return readdirSync(parent)
        .filter((entry) => entry.startsWith(`nsbox-${ownerPid}-`))
        .map((entry) => `${parent}/${entry}`)
    } catch {
      return []
    }
  })
}
