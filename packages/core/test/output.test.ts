import { expect, it } from 'vitest'
import { describeWithSandboxes, sandboxAsUser } from '../../../test/support/unprivileged.js'

await describeWithSandboxes('run() input and output', () => {
  it('writes `input` to stdin and captures stdout and stderr apart', async () => {
    const result = await sandboxAsUser('sh', ['-c', 'cat; echo oops >&2'], {
      input: 'from the caller\n',
    })
    expect(result).toMatchObject({
      exitCode: 0,
      stdout: 'from the caller\n',
      stderr: 'oops\n',
      truncated: false,
    })
  })

  it('gives the command /dev/null as stdin without `input`', async () => {
    const result = await sandboxAsUser('sh', ['-c', 'cat; echo done'])
    expect(result.stdout).toBe('done\n')
  })

  it('cuts output at maxOutput, keeps draining, and says so', async () => {
    // 64 MiB printed against a 1 KiB budget: the command is not blocked and ends normally.
    const result = await sandboxAsUser('head', ['-c', '67108864', '/dev/zero'], { maxOutput: '1K' })
    expect(result).toMatchObject({ exitCode: 0, truncated: true })
    expect(result.stdout).toHaveLength(1024)
  })

  it('never cuts a multibyte character in half at maxOutput', async () => {
    const cut = await sandboxAsUser('printf', ['éé'], { maxOutput: 1 })
    expect(cut).toMatchObject({ exitCode: 0, stdout: '', truncated: true })
    const one = await sandboxAsUser('printf', ['éé'], { maxOutput: 3 })
    expect(one).toMatchObject({ stdout: 'é', truncated: true })
  })
})
