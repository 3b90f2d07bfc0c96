import { expect, it } from 'vitest'
import { describeWithSandboxes, runAsUser } from '../../../test/support/unprivileged.js'

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
})
