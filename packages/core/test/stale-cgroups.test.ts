import { chownSync, existsSync, rmdirSync } from 'node:fs'
import { expect, it } from 'vitest'
import { sandboxCgroupsOf } from '../../../test/support/cgroups.js'
import { waitForExit } from '../../../test/support/processes.js'
import { isRoot } from '../../../test/support/test-user.js'
import {
  describeWithSandboxes,
  holdAsUser,
  holdUntilToldAsUser,
  ownerChangedAsUser,
  probeAsUser,
  reapLaterAsUser,
  sandboxAsUser,
} from '../../../test/support/unprivileged.js'

const support = await probeAsUser().catch(() => null)
const parents = support?.cgroups.sandboxParents ?? []
const hasMemoryCgroup = support?.cgroups.limits.memory.startsWith('cgroup') ?? false
const memoryParent = parents.find((parent) => parent.includes('/memory'))

await describeWithSandboxes('stale sandbox cgroups', () => {
  it.runIf(hasMemoryCgroup)(
    'a live sandbox of a parent in another PID namespace is not taken for stale',
    async () => {
      // Its cgroup is named after a PID of that namespace, which here is another process.
      const holder = holdUntilToldAsUser(
        'sh',
        ['-c', 'echo ready; sleep 300'],
        { memory: '64M' },
        {
          ownPidNamespace: true,
        },
      )
      const { cgroups } = await holder.next<{ cgroups: string[] }>()
      expect(cgroups.length).toBeGreaterThan(0)
      await sandboxAsUser('true', [], { memory: '64M' }) // a fresh process: it looks for stale cgroups
      expect(cgroups.filter((dir) => existsSync(dir))).toEqual(cgroups)
      holder.tell('end')
      expect(await holder.next()).toMatchObject({ endedEarly: false })
      await holder.done
    },
  )

  it.runIf(hasMemoryCgroup)(
    'a long-lived caller also removes the cgroups a sibling left when it was killed later',
    async () => {
      const caller = reapLaterAsUser({ memory: '64M' })
      expect(await caller.next()).toBe('ready')
      const sibling = await holdAsUser('sh', ['-c', 'echo ready; sleep 300'], { memory: '64M' })
      const siblingPid = sibling.helper.pid ?? -1
      sibling.helper.kill('SIGKILL')
      await sibling.helper
      expect(await waitForExit(sibling.launcherPid, 5000)).toBe(true)
      const left = sandboxCgroupsOf(siblingPid, parents)
      expect(left.length).toBeGreaterThan(0)
      caller.tell(JSON.stringify(left))
      expect(await caller.next()).toMatchObject({ left: [] })
      await caller.done
    },
  )

  it.runIf(isRoot && support?.cgroups.backend === 'cgroup1' && memoryParent)(
    'root takes the delegated directory over: results still come at once, with a warning and a clear error',
    async () => {
      const caller = ownerChangedAsUser(memoryParent ?? '')
      const { own, cgroups } = await caller.next<{ own: string; cgroups: string[] }>()
      try {
        chownSync(own, 0, 0)
        caller.tell('go')
        const report = await caller.next<{
          result: { signal: string }
          settleMs: number
          next: { error?: { code: string; message: string } }
          warnings: { code: string; message: string }[]
        }>()
        await caller.done
        expect(report.result).toMatchObject({ signal: 'SIGKILL' })
        // Retrying a removal it may no longer make took 2 s per sandbox.
        expect(report.settleMs).toBeLessThan(1000)
        expect(report.warnings).toContainEqual({
          code: 'NSBOX_CGROUP_LEFT',
          message: expect.stringContaining(`${own} belongs to uid 0 now, not to this user`),
        })
        expect(report.next.error).toMatchObject({ code: 'ERR_SETUP_FAILED' })
        expect(report.next.error?.message).toContain(`${own} belongs to uid 0 now`)
        expect(report.next.error?.message).toContain('sudo nsbox delegate --user')
      } finally {
        for (const dir of cgroups.flatMap((each) => [`${each}/command`, each]))
          if (existsSync(dir)) rmdirSync(dir)
        if (existsSync(own)) rmdirSync(own)
      }
    },
  )
})
