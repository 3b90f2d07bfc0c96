import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import path from 'node:path'
import { expect, it } from 'vitest'
import { isRoot, testUser } from '../../../test/support/test-user.js'
import { describeWithSandboxes, sandboxAsUser } from '../../../test/support/unprivileged.js'

await describeWithSandboxes('a sandbox, run as an unprivileged user', () => {
  it('sees only its own few processes', async () => {
    const result = await sandboxAsUser('sh', ['-c', 'ls /proc | grep -c "^[0-9]"'])
    expect(Number(result.stdout)).toBeLessThanOrEqual(5)
  })

  it('runs as the caller’s own uid and gid, with no effective capabilities', async () => {
    const user = testUser()
    const result = await sandboxAsUser('sh', ['-c', 'id -u; id -g; grep CapEff /proc/self/status'])
    const [uid, gid, capabilities] = result.stdout.trim().split('\n')
    expect(Number(uid)).toBe(user.uid)
    expect(Number(gid)).toBe(user.gid)
    expect(capabilities).toMatch(/CapEff:\s+0000000000000000/)
  })

  it('sets no_new_privs, so setuid binaries cannot raise privileges', async () => {
    const result = await sandboxAsUser('grep', ['NoNewPrivs', '/proc/self/status'])
    expect(result.stdout).toMatch(/NoNewPrivs:\s+1/)
  })

  it('runs as uid 0 of its own user namespace with uid: root', async () => {
    const result = await sandboxAsUser('id', ['-u'], { uid: 'root' })
    expect(result.stdout.trim()).toBe('0')
  })

  it('keeps /tmp writes inside the sandbox', async () => {
    const path = `/tmp/nsbox-isolation-${process.pid}-${Date.now()}`
    const result = await sandboxAsUser('sh', ['-c', `echo inside > ${path} && cat ${path}`])
    expect(result.stdout).toBe('inside\n')
    expect(existsSync(path)).toBe(false)
  })

  it('has a private /dev/shm', async () => {
    const path = `/dev/shm/nsbox-isolation-${process.pid}-${Date.now()}`
    const result = await sandboxAsUser('sh', ['-c', `echo inside > ${path} && cat ${path}`])
    expect(result.stdout).toBe('inside\n')
    expect(existsSync(path)).toBe(false)
  })

  it('has hostname "nsbox", and a change to it stays inside', async () => {
    const before = hostname()
    const result = await sandboxAsUser(
      'sh',
      ['-c', 'hostname; hostname changed-inside && hostname'],
      { uid: 'root' },
    )
    expect(result.stdout).toBe('nsbox\nchanged-inside\n')
    expect(hostname()).toBe(before)
  })

  it('cannot change the hostname as the caller’s own uid', async () => {
    const result = await sandboxAsUser('hostname', ['not-allowed'])
    expect(result.exitCode).not.toBe(0)
  })

  it.runIf(isRoot)(
    'readOnly on a host with a mount under /tmp, which its private /tmp hides',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'nsbox-mounted-'))
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'none', dir])
      try {
        const result = await sandboxAsUser(
          'sh',
          ['-c', 'touch /etc/x 2>/dev/null || echo refused'],
          {
            readOnly: true,
          },
        )
        expect(result).toMatchObject({ exitCode: 0, stdout: 'refused\n' })
      } finally {
        execFileSync('umount', [dir])
        rmSync(dir, { recursive: true, force: true })
      }
    },
  )
})
