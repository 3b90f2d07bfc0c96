import { expect, it } from 'vitest'
import { cliAsUser, describeWithSandboxes } from '../../../test/support/unprivileged.js'

await describeWithSandboxes('nsbox run', () => {
  it('passes on the exit code and the output', async () => {
    const { exitCode, stdout } = await cliAsUser(['run', '--', 'sh', '-c', 'hostname; exit 3'])
    expect(exitCode).toBe(3)
    expect(stdout).toBe('nsbox') // execa strips the final newline
  })

  it('exits 128+N when signal N ended the command', async () => {
    expect((await cliAsUser(['run', '--', 'sh', '-c', 'kill -TERM $$'])).exitCode).toBe(143)
  })

  it('says in one line that the timeout ended the command', async () => {
    const { exitCode, stderr } = await cliAsUser(['run', '--timeout', '500ms', '--', 'sleep', '30'])
    expect(exitCode).toBe(137)
    expect(stderr).toBe('nsbox: killed: timeout 500 ms exceeded')
  })

  it('--json prints the result object instead of the output', async () => {
    const { exitCode, stdout } = await cliAsUser([
      'run',
      '--json',
      '--network',
      'none',
      '--',
      'sh',
      '-c',
      'echo hi; exit 4',
    ])
    expect(exitCode).toBe(4)
    expect(JSON.parse(stdout)).toMatchObject({
      exitCode: 4,
      signal: null,
      killedBy: null,
      stdout: 'hi\n',
      stderr: '',
      truncated: false,
    })
  })

  it('refuses a limit value out of range, with exit 125 and the accepted range', async () => {
    const { exitCode, stderr } = await cliAsUser(['run', '--cpus', '0.001', '--', 'true'])
    expect(exitCode).toBe(125)
    expect(stderr).toMatch(
      /^nsbox: Expected the `cpus` option to be a number of cores of at least 0.01/,
    )
  })

  it('refuses a bad value naming the option', async () => {
    const { exitCode, stderr } = await cliAsUser(['run', '--network', 'wifi', '--', 'true'])
    expect(exitCode).toBe(125)
    expect(stderr).toContain(
      "Expected the `network` option to be one of 'loopback', 'none', 'host'",
    )
  })

  it('exits 127 for a command that is not there', async () => {
    expect((await cliAsUser(['run', '--', 'no-such-command-anywhere'])).exitCode).toBe(127)
  })
})

await describeWithSandboxes('nsbox doctor and help', () => {
  it('doctor reports a working host and exits 0', async () => {
    const { exitCode, stdout } = await cliAsUser(['doctor'])
    expect(exitCode).toBe(0)
    expect(stdout).toContain('ok    user namespaces: a test sandbox started')
  })

  it('doctor --json prints the probe', async () => {
    const { stdout } = await cliAsUser(['doctor', '--json'])
    expect(JSON.parse(stdout)).toMatchObject({ canSandbox: true, userNamespaces: { works: true } })
  })

  it('--help lists every run flag the parser accepts', async () => {
    const { stdout } = await cliAsUser(['run', '--help'])
    for (const flag of [
      '--network',
      '--timeout',
      '--uid',
      '--tmp-size',
      '--cwd',
      '--json',
      '--memory',
      '--pids',
      '--cpus',
      '--help',
    ]) {
      expect(stdout).toContain(flag)
    }
  })
})
