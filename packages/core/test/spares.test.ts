import { tmpdir } from 'node:os'
import { expect, it } from 'vitest'
import { sandboxCgroupsOf } from '../../../test/support/cgroups.js'
import { waitForExit } from '../../../test/support/processes.js'
import {
  describeWithSandboxes,
  holdAsUser,
  probeAsUser,
  sparesAsUser,
} from '../../../test/support/unprivileged.js'

const ALLOCATE_400_MB =
  'const chunks = []; for (let i = 0; i < 400; i++) chunks.push(Buffer.alloc(1 << 20, 1))'
const MiB = 1024 ** 2

await describeWithSandboxes('spare launchers', () => {
  it('the next sandbox of a kind starts in the spare the last one left, and sees the host as it is now', async () => {
    const report = await sparesAsUser({
      after: 'second',
      tmpParent: tmpdir(),
      second: { file: 'sh', args: ['-c', 'cat note; hostname; echo $$'] },
    })
    expect(report.first).toMatchObject({ exitCode: 0 })
    expect(report.spares).toHaveLength(1)
    expect(report.secondLauncher).toBe(report.spares[0])
    // The working directory was made under /tmp after the spare had started.
    expect(report.second).toMatchObject({
      exitCode: 0,
      stdout: 'made after the spare started\nnsbox\n2\n',
    })
    expect(report.launchersLeft).toEqual([])
  })

  it('a spare of another kind is not used: network host gets a launcher of its own', async () => {
    const report = await sparesAsUser({
      after: 'second',
      tmpParent: tmpdir(),
      second: { file: 'true', args: [] },
      secondOptions: { network: 'host' },
    })
    expect(report.spares).toHaveLength(1)
    expect(report.secondLauncher).not.toBe(report.spares[0])
    expect(report.second).toMatchObject({ exitCode: 0 })
    expect(report.launchersLeft).toEqual([])
  })

  it('NSBOX_SPARES=0 starts none', async () => {
    const report = await sparesAsUser({ after: 'idle' }, { NSBOX_SPARES: '0' })
    expect(report.spares).toEqual([])
  })

  it('an unused spare ends by itself after a few seconds', async () => {
    const report = await sparesAsUser({ after: 'idle' })
    expect(report.spares).toHaveLength(1)
    expect(report.launchersLeft).toEqual([])
  })

  it('a spare ends with its process, which exits without waiting for it', async () => {
    const report = await sparesAsUser({ after: 'exit' })
    expect(report.spares).toHaveLength(1)
    expect(await waitForExit(report.spares[0] ?? -1, 1000)).toBe(true)
  })
})

const support = await probeAsUser().catch(() => null)
const parents = support?.cgroups.sandboxParents ?? []

await describeWithSandboxes('spare launchers with limits', () => {
  it.runIf(support?.cgroups.limits.memory.startsWith('cgroup'))(
    "a spare waits in a cgroup of its own, and gets the next sandbox's limits",
    async () => {
      const report = await sparesAsUser({
        firstOptions: { memory: '256M' },
        after: 'second',
        tmpParent: tmpdir(),
        second: { file: 'node', args: ['-e', ALLOCATE_400_MB] },
        secondOptions: { memory: '64M' },
      })
      expect(report.spareCgroups.length).toBeGreaterThan(0)
      expect(report.secondLauncher).toBe(report.spares[0])
      expect(report.second).toMatchObject({ signal: 'SIGKILL', killedBy: 'memory' })
      expect((report.second as { memoryPeak: number }).memoryPeak).toBeLessThanOrEqual(64 * MiB)
      expect(report.cgroupsLeft).toEqual([])
      expect(sandboxCgroupsOf(report.pid, parents)).toEqual([])
      // The exit handlers that removed cgroups on a signal are gone with the last cgroup.
      expect(report.sigtermListeners).toBe(0)
    },
  )

  it.runIf(support?.cgroups.limits.memory.startsWith('cgroup'))(
    "a spare's cgroup is removed when it ends unused, and when its process exits",
    async () => {
      const idle = await sparesAsUser({ firstOptions: { memory: '64M' }, after: 'idle' })
      expect(idle.spareCgroups.length).toBeGreaterThan(0)
      expect(idle.cgroupsLeft).toEqual([])
      const exited = await sparesAsUser({ firstOptions: { memory: '64M' }, after: 'exit' })
      expect(exited.spareCgroups.length).toBeGreaterThan(0)
      expect(await waitForExit(exited.spares[0] ?? -1, 1000)).toBe(true)
      expect(sandboxCgroupsOf(exited.pid, parents)).toEqual([])
    },
  )

  it.runIf(support?.cgroups.limits.memory.startsWith('cgroup'))(
    "SIGTERM to a process with no handler of its own still removes its sandboxes' and spares' cgroups",
    async () => {
      const { helper, launcherPid, spareLauncherPids } = await holdAsUser(
        'sh',
        ['-c', 'echo ready; sleep 300'],
        { memory: '64M' },
      )
      const helperPid = helper.pid ?? -1
      expect(spareLauncherPids).toHaveLength(1)
      expect(sandboxCgroupsOf(helperPid, parents)).toHaveLength(2)
      helper.kill('SIGTERM')
      expect((await helper).signal).toBe('SIGTERM')
      for (const pid of [launcherPid, ...spareLauncherPids]) {
        expect(await waitForExit(pid, 1000)).toBe(true)
      }
      expect(sandboxCgroupsOf(helperPid, parents)).toEqual([])
    },
  )
})
