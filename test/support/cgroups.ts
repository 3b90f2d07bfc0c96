import { readdirSync } from 'node:fs'

/**
 * The sandbox cgroups that a process with PID `ownerPid` created and left under
 * `parents` (sandbox cgroups are named `nsbox-<pid namespace>-<owner pid>-…`).
 */
export function sandboxCgroupsOf(ownerPid: number, parents: readonly string[]): string[] {
  return parents.flatMap((parent) => {
    try {
      return readdirSync(parent)
        .filter((entry) => new RegExp(`^nsbox-\\d+-${ownerPid}-\\d+-\\d+$`).test(entry))
        .map((entry) => `${parent}/${entry}`)
    } catch {
      return []
    }
  })
}
