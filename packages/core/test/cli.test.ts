import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
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

  it('exits 126 for a command that is there but cannot run, whatever its path says', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nsbox-cli-'))
    try {
      chmodSync(dir, 0o755)
      mkdirSync(path.join(dir, 'not found'), { mode: 0o755 })
      const script = path.join(dir, 'not found', 'script')
      writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o644 })
      const { exitCode, stderr } = await cliAsUser(['run', '--', script])
      expect(stderr).toContain('permission denied')
      expect(exitCode).toBe(126)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('an unknown flag gets a "did you mean", and never the advice to put it after --', async () => {
    const { exitCode, stderr } = await cliAsUser(['run', '--netwrk', 'none', '--', 'true'])
    expect(exitCode).toBe(125)
    expect(stderr).toBe(
      'nsbox run: unknown flag --netwrk. Did you mean --network? See `nsbox run --help`.',
    )
  })

  it("--memory -5M gets nsbox's own message: a size must be positive", async () => {
    const { exitCode, stderr } = await cliAsUser(['run', '--memory', '-5M', '--', 'true'])
    expect(exitCode).toBe(125)
    expect(stderr).toBe('nsbox: The `memory` option must be positive, got `"-5M"` (string).')
  })
})

await describeWithSandboxes('nsbox doctor and help', () => {
  it('doctor reports a working host and exits 0', async () => {
    const { exitCode, stdout } = await cliAsUser(['doctor'])
    expect(exitCode).toBe(0)
    expect(stdout).toContain('ok    user namespaces: a test sandbox started')
  })

  it('doctor refuses a flag it does not take', async () => {
    const { exitCode, stdout, stderr } = await cliAsUser(['doctor', '--bogus'])
    expect(exitCode).toBe(125)
    expect(stdout).toBe('')
    expect(stderr).toBe('nsbox doctor: unknown flag --bogus. See `nsbox doctor --help`.')
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
