import { expect, it } from 'vitest'
import { uniqueMarker, waitForExit, waitUntilGone } from '../../../test/support/processes.js'
import {
  describeWithSandboxes,
  holdAsUser,
  killAfterReadyAsUser,
  killAtOnceAsUser,
  killRacesAsUser,
  sandboxAsUser,
  timeoutBurstAsUser,
} from '../../../test/support/unprivileged.js'

await describeWithSandboxes('the end of a sandbox', () => {
  it('passes on the exit code', async () => {
    const result = await sandboxAsUser('sh', ['-c', 'exit 42'])
    expect(result).toMatchObject({ exitCode: 42, signal: null, killedBy: null })
  })

  it('reports the signal that ended the command', async () => {
    const result = await sandboxAsUser('sh', ['-c', 'kill -9 $$'])
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGKILL', killedBy: null })
  })

  it('kills a backgrounded grandchild when the command exits', async () => {
    const marker = uniqueMarker('grandchild')
    const result = await sandboxAsUser('sh', [
      '-c',
      `(sh -c 'sleep 300; true' ${marker} &) ; echo started`,
    ])
    expect(result.stdout).toBe('started\n')
    expect(await waitUntilGone(marker, 1000)).toEqual([])
  })

  it('timeout: ends `sleep 30` promptly and says so', async () => {
    const marker = uniqueMarker('timeout')
    const result = await sandboxAsUser('sh', ['-c', 'sleep 30; true', marker], { timeout: '1s' })
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGKILL', killedBy: 'timeout' })
    expect(result.duration).toBeGreaterThanOrEqual(1000)
    expect(result.duration).toBeLessThan(5000)
    expect(await waitUntilGone(marker, 1000)).toEqual([])
  })

  it('timeout: 200 sandboxes started at once each end soon after their timeout, without holding the event loop', async () => {
    const report = await timeoutBurstAsUser(200, 200)
    expect(report.killedBy).toEqual(['timeout'])
    // Generous bounds: launches that held the loop for 7 to 40 ms each made results
    // seconds late, in one turn as long as the whole burst.
    expect(report.latestMs).toBeLessThan(1000)
    expect(report.longestTurnMs).toBeLessThan(250)
  })

  it('kill(): SIGTERM reaches the command, which may handle it', async () => {
    const result = await killAfterReadyAsUser(
      'sh',
      ['-c', 'trap "exit 7" TERM; echo ready; sleep 30 & wait'],
      'SIGTERM',
    )
    expect(result).toMatchObject({ exitCode: 7, killedBy: null })
  })

  it('kill(): a SIGTERM sent before the command has started reaches it once it has', async () => {
    const result = await killAtOnceAsUser('sleep', ['30'], 'SIGTERM')
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGTERM', killedBy: null })
  })

  it('kill(): SIGKILL ends the whole sandbox', async () => {
    const marker = uniqueMarker('kill')
    const result = await killAfterReadyAsUser(
      'sh',
      ['-c', `echo ready; sleep 30; true`, marker],
      'SIGKILL',
    )
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGKILL', killedBy: null })
    expect(await waitUntilGone(marker, 1000)).toEqual([])
  })

  it('kill() and timeout at any moment of the start end everything, and the result says what happened', async () => {
    const marker = uniqueMarker('race')
    // Without spares every launch starts its own unshare, whose start is what the kills hit.
    const report = await killRacesAsUser(
      { count: 300, maxDelayMs: 10, marker },
      { NSBOX_SPARES: '0' },
    )
    expect(report).toEqual({ launches: 300, unsettled: [], untruthful: [] })
    expect(await waitUntilGone(marker, 2000)).toEqual([])
  })

  it('leaves no process when the parent Node process is SIGKILLed', async () => {
    const marker = uniqueMarker('orphan')
    const { helper, launcherPid, spareLauncherPids } = await holdAsUser('sh', [
      '-c',
      `(sh -c 'sleep 300; true' ${marker} &); echo ready; sleep 300; true`,
      marker,
    ])
    expect(launcherPid).toBeGreaterThan(0)
    // The launcher nsbox started ahead for the next sandbox goes too.
    expect(spareLauncherPids).toHaveLength(1)
    helper.kill('SIGKILL')
    await helper
    expect(await waitUntilGone(marker, 1000)).toEqual([])
    for (const pid of [launcherPid, ...spareLauncherPids]) {
      expect(await waitForExit(pid, 1000)).toBe(true)
    }
  })
})
