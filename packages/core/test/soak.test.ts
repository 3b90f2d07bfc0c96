import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { expect, it } from 'vitest'
import { sandboxCgroupsOf } from '../../../test/support/cgroups.js'
import { uniqueMarker, waitForExit, waitUntilGone } from '../../../test/support/processes.js'
import {
  describeWithSandboxes,
  holdAsUser,
  killRacesAsUser,
  probeAsUser,
  type SoakVariant,
  sandboxAsUser,
  soakAsUser,
} from '../../../test/support/unprivileged.js'

// Bounded soaks, run with every test run: what thousands of sandboxes would show, in
// counts CI can afford. Each one checks that nothing is left: processes, cgroups, mounts,
// files in the caller's temp directory, descriptors.
const support = await probeAsUser().catch(() => null)
const parents = support?.cgroups.sandboxParents ?? []
const limits = support?.cgroups.limits.memory.startsWith('cgroup') ? { memory: '64M' } : {}

// The mount points of the host's mount namespace, where no sandbox may leave one.
function hostMountPoints(): Set<string> {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean)
  return new Set(lines.map((line) => line.split(' ')[4] ?? ''))
}

function newMountsAmong(before: Set<string>, marker: string): string[] {
  return [...hostMountPoints()].filter((point) => !before.has(point) && point.includes(marker))
}

await describeWithSandboxes('soak', () => {
  it('1,000 launches of every kind leave no process, cgroup, mount, temp file or descriptor', async () => {
    const marker = uniqueMarker('soak')
    const tmp = mkdtempSync(path.join(tmpdir(), 'nsbox-soak-'))
    chmodSync(tmp, 0o777)
    const mountsBefore = hostMountPoints()
    try {
      const ok = { exitCode: 0, signal: null, killedBy: null }
      const variants: SoakVariant[] = [
        { file: 'sh', args: ['-c', 'echo hi', marker], expect: ok },
        { file: 'sh', args: ['-c', 'echo hi', marker], options: limits, expect: ok },
        {
          file: 'sh',
          args: ['-c', 'exit 0', marker],
          options: { network: 'none', pids: 16 },
          expect: ok,
        },
        {
          file: 'sh',
          args: ['-c', 'sleep 30', marker],
          options: { ...limits, timeout: '50ms' },
          expect: { exitCode: null, signal: 'SIGKILL', killedBy: 'timeout' },
        },
        {
          file: 'sh',
          args: ['-c', '(sleep 30 &); exit 3', marker],
          expect: { ...ok, exitCode: 3 },
        },
      ]
      const report = await soakAsUser({ count: 1000, concurrency: 8, variants }, { TMPDIR: tmp })
      expect(report).toMatchObject({
        launches: 1000,
        failures: [],
        failureCount: 0,
        launchersLeft: [],
      })
      expect(report.fdsAfter).toBeLessThanOrEqual(report.fdsBefore)
      expect(await waitUntilGone(marker, 2000)).toEqual([])
      expect(sandboxCgroupsOf(report.pid, parents)).toEqual([])
      expect(readdirSync(tmp)).toEqual([])
      expect(newMountsAmong(mountsBefore, 'nsbox')).toEqual([])
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  }, 300_000)

  it('300 kills and timeouts 0 to 10 ms into the start, with limits and spares: nothing left', async () => {
    const marker = uniqueMarker('soak-race')
    const report = await killRacesAsUser({
      count: 300,
      maxDelayMs: 10,
      marker,
      options: limits,
      leftovers: true,
    })
    expect(report).toMatchObject({ launches: 300, unsettled: [], untruthful: [] })
    expect(report.leftovers?.launchers).toEqual([])
    expect(report.leftovers?.fdsAfter).toBeLessThanOrEqual(report.leftovers?.fdsBefore ?? 0)
    expect(await waitUntilGone(marker, 2000)).toEqual([])
    expect(sandboxCgroupsOf(report.leftovers?.pid ?? -1, parents)).toEqual([])
  }, 120_000)

  it('100 parents SIGKILLed while their sandboxes run: no process is left, and their cgroups go', async () => {
    const marker = uniqueMarker('soak-parent')
    const killed: number[] = []
    for (let round = 0; round < 10; round++) {
      const holders = await Promise.all(
        Array.from({ length: 10 }, () =>
          holdAsUser('sh', ['-c', `echo ready; sleep 300; true ${marker}`], limits),
        ),
      )
      for (const { helper } of holders) helper.kill('SIGKILL')
      for (const { helper, launcherPid, spareLauncherPids } of holders) {
        await helper
        killed.push(helper.pid ?? -1)
        for (const pid of [launcherPid, ...spareLauncherPids]) {
          expect(await waitForExit(pid, 5000)).toBe(true)
        }
      }
    }
    expect(killed).toHaveLength(100)
    expect(await waitUntilGone(marker, 2000)).toEqual([])
    // The next sandbox with limits removes what the killed parents left.
    await sandboxAsUser('true', [], limits)
    expect(killed.flatMap((pid) => sandboxCgroupsOf(pid, parents))).toEqual([])
  }, 300_000)
})
