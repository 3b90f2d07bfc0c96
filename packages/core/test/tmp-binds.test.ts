import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { dir } from 'tmp-promise'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { testUser } from '../../../test/support/test-user.js'
import { describeWithSandboxes, sandboxAsUser } from '../../../test/support/unprivileged.js'

let project: { path: string; cleanup: () => Promise<void> }

beforeAll(async () => {
  // A project checked out under the host's /tmp, as CI jobs and tmp-promise users have.
  project = await dir({
    tmpdir: '/tmp',
    prefix: 'nsbox-project-',
    unsafeCleanup: true,
    mode: 0o755,
  })
  mkdirSync(path.join(project.path, 'node_modules', 'dep'), { recursive: true })
  mkdirSync(path.join(project.path, 'packages', 'app'), { recursive: true })
  writeFileSync(
    path.join(project.path, 'node_modules', 'dep', 'index.js'),
    'module.exports = "dep loaded"\n',
  )
  writeFileSync(path.join(project.path, 'script.js'), 'console.log(require("dep"))\n')
  const { chownSync } = await import('node:fs')
  const user = testUser()
  for (const entry of [
    '',
    'node_modules',
    'node_modules/dep',
    'node_modules/dep/index.js',
    'packages',
    'packages/app',
    'script.js',
  ]) {
    if (process.getuid?.() === 0) chownSync(path.join(project.path, entry), user.uid, user.gid)
  }
})

afterAll(() => project.cleanup())

await describeWithSandboxes('a project under the host’s /tmp', () => {
  it('stays visible when it is the working directory, with its node_modules', async () => {
    const result = await sandboxAsUser(process.execPath, ['script.js'], { cwd: project.path })
    expect(result.stdout).toBe('dep loaded\n')
  })

  it('stays visible from a nested working directory (monorepo package)', async () => {
    const result = await sandboxAsUser(process.execPath, ['../../script.js'], {
      cwd: path.join(project.path, 'packages', 'app'),
    })
    expect(result.stdout).toBe('dep loaded\n')
  })

  it('stays visible when passed as an absolute argument, while the rest of /tmp is private', async () => {
    const result = await sandboxAsUser(
      'sh',
      ['-c', 'node "$1"; ls /tmp', 'sh', path.join(project.path, 'script.js')],
      {
        cwd: '/',
        env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` },
      },
    )
    expect(result.stdout).toBe(`dep loaded\n${path.basename(project.path)}\n`)
  })

  it('is writable through the bind, and writes land on the host', async () => {
    const result = await sandboxAsUser('sh', ['-c', 'echo written > output.txt'], {
      cwd: project.path,
    })
    expect(result.exitCode).toBe(0)
    const { readFileSync } = await import('node:fs')
    expect(readFileSync(path.join(project.path, 'output.txt'), 'utf8')).toBe('written\n')
  })
})
