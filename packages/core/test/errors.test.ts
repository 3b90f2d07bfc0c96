import { expect, it } from 'vitest'
import { sandboxCgroupsOf } from '../../../test/support/cgroups.js'
import {
  describeWithSandboxes,
  killedFromOutsideAsUser,
  outOfFilesAsUser,
  outOfProcessesAsUser,
  probeAsUser,
  runAsUser,
} from '../../../test/support/unprivileged.js'

const support = await probeAsUser().catch(() => null)
const parents = support?.cgroups.sandboxParents ?? []

await describeWithSandboxes('errors from a real launch', () => {
  it('a command that does not exist: ERR_EXEC_FAILED naming it and the PATH searched', async () => {
    const report = await runAsUser('no-such-command-anywhere', [], {
      env: { PATH: '/usr/bin:/bin' },
    })
    expect(report).toMatchObject({ error: { code: 'ERR_EXEC_FAILED' } })
    expect('error' in report && report.error.message).toBe(
      'nsbox: command not found in the sandbox: no-such-command-anywhere. Looked in PATH=/usr/bin:/bin. Check the name or give an absolute path.',
    )
  })

  it('a cwd that does not exist: ERR_INVALID_OPTION before anything starts', async () => {
    const report = await runAsUser('true', [], { cwd: '/no/such/dir' })
    expect(report).toMatchObject({ error: { code: 'ERR_INVALID_OPTION', option: 'cwd' } })
  })

  it('a bad option value: ERR_INVALID_OPTION naming option, value and accepted forms', async () => {
    const report = await runAsUser('true', [], { timeout: 'soon' })
    expect(report).toMatchObject({
      error: {
        code: 'ERR_INVALID_OPTION',
        message:
          'nsbox: Expected the `timeout` option to be a duration such as "30s", "500ms", "2m" or a number of milliseconds, got `"soon"` (string).',
      },
    })
  })

  it('out of file descriptors: ERR_RESOURCE_EXHAUSTED saying which limit and how to raise it, and nothing left', async () => {
    const { pid, reports, fdsBefore, fdsAfter } = await outOfFilesAsUser({
      openFiles: 48,
      count: 32,
      file: 'sleep',
      args: ['0.2'],
      options: support?.cgroups.limits.memory.startsWith('cgroup') ? { memory: '64M' } : {},
    })
    const errors = reports.flatMap((report) => ('error' in report ? [report.error] : []))
    expect(errors.length).toBeGreaterThan(0)
    for (const error of errors) {
      expect(error).toMatchObject({
        name: 'ResourceExhaustedError',
        code: 'ERR_RESOURCE_EXHAUSTED',
      })
      expect(error.message).toContain('has run out of file descriptors (EMFILE; its limit is 48')
      expect(error.message).toContain('`ulimit -n 65536`')
    }
    for (const report of reports) if (!('error' in report)) expect(report.exitCode).toBe(0)
    expect(fdsAfter).toBeLessThanOrEqual(fdsBefore)
    expect(sandboxCgroupsOf(pid, parents)).toEqual([])
  })

  const pidsParent = parents.find((parent) => parent.includes('/pids'))
  it.runIf(support?.cgroups.backend === 'cgroup1' && pidsParent)(
    'out of processes (EAGAIN from fork): ERR_RESOURCE_EXHAUSTED naming the full pids cgroup',
    async () => {
      const { report, cgroup } = await outOfProcessesAsUser({
        pidsParent: pidsParent ?? '',
        headroom: 0,
        file: 'true',
        args: [],
      })
      expect(report).toMatchObject({
        error: { name: 'ResourceExhaustedError', code: 'ERR_RESOURCE_EXHAUSTED' },
      })
      expect('error' in report && report.error.message).toMatch(
        `no new process could be created (EAGAIN from fork): this process's cgroup ${cgroup} is at its pids.max of`,
      )
    },
  )

  it.runIf(support?.cgroups.backend === 'cgroup1' && pidsParent)(
    'unshare unable to fork the init (EAGAIN): ERR_RESOURCE_EXHAUSTED, not blocked user namespaces',
    async () => {
      const { report, cgroup } = await outOfProcessesAsUser({
        pidsParent: pidsParent ?? '',
        headroom: 1,
        file: 'true',
        args: [],
      })
      expect(report).toMatchObject({
        error: { name: 'ResourceExhaustedError', code: 'ERR_RESOURCE_EXHAUSTED' },
      })
      expect('error' in report && report.error.message).toContain(
        `this process's cgroup ${cgroup} is at its pids.max of`,
      )
    },
  )

  it.each(['unshare', 'init'] as const)(
    'the %s SIGKILLed from outside after the command started: a SIGKILL ending, not a setup or user-namespace error',
    async (target) => {
      const report = await killedFromOutsideAsUser(target, 'sh', ['-c', 'echo ready; sleep 300'])
      expect(report).toMatchObject({ exitCode: null, signal: 'SIGKILL', killedBy: null })
    },
  )
})
