import { chownSync, mkdirSync, rmdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { probe, type RunOptions, run, type SandboxError, type SandboxResult } from '@nsbox/core'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { sandboxCgroupsOf } from '../../../test/support/cgroups.js'
import { waitForExit } from '../../../test/support/processes.js'
import { isRoot, testUser, undelegatedUser } from '../../../test/support/test-user.js'
import {
  canSandboxAsUser,
  cliAsUser,
  holdAsUser,
  probeAsUser,
  type RunReport,
  runAsUser,
  runDelegatedAsUser,
  runManyAsUser,
  runWithWarningsAsUser,
  sandboxAsUser,
} from '../../../test/support/unprivileged.js'

// Fills memory 1 MiB at a time, touching every page, until something stops it.
const ALLOCATE_FOREVER = 'const chunks = []; for (;;) chunks.push(Buffer.alloc(1 << 20, 1))'
const ALLOCATE_400_MB =
  'const chunks = []; for (let i = 0; i < 400; i++) chunks.push(Buffer.alloc(1 << 20, 1))'
const FORK_FOREVER = 'while :; do sleep 5 & done'
const BURST_OF_40 = 'for i in $(seq 40); do sleep 2 & done; wait'
const SPIN_2_SECONDS = 'const end = Date.now() + 2000; while (Date.now() < end);'
const MiB = 1024 ** 2
const NSBOX_CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))
// The cgroup v2 VM runs fewer: each sandbox costs 20 times more under emulation.
const SANDBOX_COUNT = Number(process.env.NSBOX_TEST_SANDBOX_COUNT ?? 1000)

// Tests pick what they prove by what the host offers the test user, not by a list of
// hosts: the same file runs on cgroup v1 here and on cgroup v2 in the VM harness.
const canSandbox = await canSandboxAsUser()
const support = canSandbox ? await probeAsUser() : null
const backend = support?.cgroups.backend ?? null
const mustWork = process.env.NSBOX_MUST_WORK === '1'
if (mustWork && canSandbox && isRoot && backend === null) {
  throw new Error(
    `NSBOX_MUST_WORK=1 but the delegated test user has no cgroup: ${support?.cgroups.missing?.reason}`,
  )
}
// The user that gets no cgroup: a dedicated account under root, else the current user
// when it has none.
const watchdogUser = undelegatedUser() ?? (backend === null ? testUser() : null)

type Caller = {
  label: string
  run: (file: string, args: string[], options: RunOptions) => Promise<RunReport>
  backend: string | null
}
const callers: Caller[] = []
if (isRoot && canSandbox) {
  // Root keeps its sandboxes in its own cgroup, which it may always write.
  const rootSupport = await probe()
  const inThisProcess: Caller['run'] = (file, args, options) =>
    run(file, args, options).catch((error: SandboxError) => ({
      error: { name: error.name, code: error.code, message: error.message },
    }))
  callers.push({ label: 'root', run: inThisProcess, backend: rootSupport.cgroups.backend })
}
if (backend !== null) callers.push({ label: 'a delegated user', run: runAsUser, backend })
if (watchdogUser) {
  const asWatchdogUser: Caller['run'] = (file, args, options) =>
    runAsUser(file, args, options, watchdogUser)
  callers.push({ label: 'a user without a cgroup', run: asWatchdogUser, backend: null })
}

describe.each(callers)('limits for $label', ({ run: runAs, backend: expected }) => {
  it('400 MB under a 64M cap: killed, killedBy memory, peak near the cap', async () => {
    const result = await runAs('node', ['-e', ALLOCATE_400_MB], { memory: '64M' })
    expect(result).toMatchObject({
      signal: 'SIGKILL',
      killedBy: 'memory',
      enforcement: { memory: expected ?? 'watchdog' },
    })
    const { memoryPeak } = result as SandboxResult
    expect(memoryPeak).toBeGreaterThan(56 * MiB)
    // The watchdog samples every 50 ms, so its peak may pass the cap before it kills.
    expect(memoryPeak).toBeLessThanOrEqual(expected ? 64 * MiB : 400 * MiB)
  })

  it('a 40-process burst under pids 16: ended, killedBy pids', async () => {
    const result = await runAs('sh', ['-c', BURST_OF_40], { pids: 16, timeout: '20s' })
    expect(result).toMatchObject({
      killedBy: 'pids',
      enforcement: { pids: expected ?? 'watchdog' },
    })
    // A cgroup holds the count; the watchdog only notices within a sample, then kills.
    const { pidsPeak } = result as SandboxResult
    expect(pidsPeak).toBeLessThanOrEqual(expected ? 16 : 42) // 40 sleeps, sh and the init
  })

  it('a 2 s spin under cpus 0.25 gets a quarter of a core, or is refused without a cgroup', async () => {
    const result = await runAs('node', ['-e', SPIN_2_SECONDS], { cpus: 0.25 })
    if (expected === null) {
      expect(result).toMatchObject({ error: { code: 'ERR_LIMIT_UNAVAILABLE' } })
      return
    }
    expect(result).toMatchObject({ exitCode: 0, enforcement: { cpus: expected } })
    const { cpuTime, duration } = result as SandboxResult
    expect(cpuTime).toBeGreaterThan(0)
    // A quarter of a core for the whole run (Node.js's own start-up included), with room
    // for the CFS period's rounding: 0.8 s for a 2 s spin on a host where start-up is fast.
    expect(cpuTime).toBeLessThanOrEqual(0.4 * duration)
  })
})

describe.runIf(backend !== null)(`limits enforced by ${backend}`, () => {
  const parents = support?.cgroups.sandboxParents ?? []

  it('memory: the OOM kill is reported as the memory limit, with the peak', async () => {
    const result = await sandboxAsUser('node', ['-e', ALLOCATE_FOREVER], { memory: '96M' })
    expect(result).toMatchObject({
      exitCode: null,
      signal: 'SIGKILL',
      killedBy: 'memory',
      enforcement: { memory: backend },
    })
    expect(result.memoryPeak).toBeGreaterThan(90 * MiB)
    expect(result.memoryPeak).toBeLessThanOrEqual(96 * MiB)
  })

  it('memory: a command under the cap ends normally and reports its peak', async () => {
    const result = await sandboxAsUser('node', ['-e', 'Buffer.alloc(20 << 20, 1)'], {
      memory: '256M',
    })
    expect(result).toMatchObject({ exitCode: 0, killedBy: null })
    expect(result.memoryPeak).toBeGreaterThan(20 * MiB)
    expect(result.memoryPeak).toBeLessThan(256 * MiB)
  })

  it('memory: files in the private /tmp count against the cap', async () => {
    const result = await sandboxAsUser(
      'sh',
      ['-c', 'head -c 100000000 /dev/zero > /tmp/big; echo wrote'],
      { memory: '48M' },
    )
    expect(result.killedBy).toBe('memory')
    expect(result.stdout).not.toContain('wrote')
  })

  it('memory: a SIGKILL the command sends itself is not blamed on the limit', async () => {
    const result = await sandboxAsUser('sh', ['-c', 'kill -9 $$'], { memory: '64M' })
    expect(result).toMatchObject({ signal: 'SIGKILL', killedBy: null })
  })

  it('pids: a fork bomb ends with killedBy pids and never passes the cap', async () => {
    const result = await sandboxAsUser('sh', ['-c', FORK_FOREVER], { pids: 16, timeout: '20s' })
    expect(result).toMatchObject({ killedBy: 'pids', enforcement: { pids: backend } })
    expect(result.pidsPeak).toBeGreaterThan(1)
    expect(result.pidsPeak).toBeLessThanOrEqual(16)
  })

  it('cpus: a busy loop gets about the share of a core it was given', async () => {
    const busySecond = 'const end = Date.now() + 1000; while (Date.now() < end);'
    const result = await sandboxAsUser('node', ['-e', busySecond], { cpus: 0.1 })
    expect(result).toMatchObject({ exitCode: 0, enforcement: { cpus: backend } })
    expect(result.cpuTime).toBeGreaterThan(0)
    // Unthrottled, the loop alone would use a whole core for its second.
    expect(result.cpuTime).toBeLessThan(0.3 * result.duration)
  })

  it(`leaves no cgroup behind after ${SANDBOX_COUNT} sandboxes with limits`, async () => {
    const run = await runManyAsUser(SANDBOX_COUNT, 8, 'true', [], { memory: '64M', pids: 32 })
    expect(run.failures).toEqual([])
    expect(run.results).toBe(SANDBOX_COUNT)
    expect(sandboxCgroupsOf(run.pid, parents)).toEqual([])
  }, 180_000)

  it("reaps a killed parent's cgroup at the next start", async () => {
    const { helper, launcherPid } = await holdAsUser('sh', ['-c', 'echo ready; sleep 300'], {
      memory: '64M',
    })
    const ownerPid = helper.pid ?? -1
    expect(sandboxCgroupsOf(ownerPid, parents)).not.toEqual([])
    helper.kill('SIGKILL')
    await helper
    // The sandbox ends with its parent; its cgroup stays until someone removes it.
    expect(await waitForExit(launcherPid, 5000)).toBe(true)
    expect(sandboxCgroupsOf(ownerPid, parents)).not.toEqual([])
    await sandboxAsUser('true', [], { memory: '64M' })
    expect(sandboxCgroupsOf(ownerPid, parents)).toEqual([])
  })

  it('nsbox run --memory says which limit killed the command, and exits 137', async () => {
    const cli = await cliAsUser(['run', '--memory', '96M', '--', 'node', '-e', ALLOCATE_FOREVER])
    expect(cli.exitCode).toBe(137)
    expect(cli.stderr).toMatch(
      /^nsbox: killed: memory limit 96 MiB exceeded \(peak \d+\.\d MiB\)$/m,
    )
  })

  it('nsbox doctor names the backend and where sandbox cgroups go', async () => {
    const cli = await cliAsUser(['doctor'])
    expect(cli.exitCode).toBe(0)
    expect(cli.stdout).toContain(`limits enforced by: memory: ${backend}, pids: ${backend}`)
  })
})

describe.runIf(canSandbox && watchdogUser !== null)('limits without a writable cgroup', () => {
  const user = watchdogUser ?? testUser()

  it('memory falls back to the watchdog, which kills over the cap', async () => {
    const result = await sandboxAsUser('node', ['-e', ALLOCATE_FOREVER], { memory: '150M' }, user)
    expect(result).toMatchObject({
      signal: 'SIGKILL',
      killedBy: 'memory',
      enforcement: { memory: 'watchdog' },
    })
    expect(result.memoryPeak).toBeGreaterThan(150 * MiB)
  })

  it('pids falls back to the watchdog, which ends a fork bomb', async () => {
    const result = await sandboxAsUser(
      'sh',
      ['-c', FORK_FOREVER],
      { pids: 16, timeout: '20s' },
      user,
    )
    expect(result).toMatchObject({ killedBy: 'pids', enforcement: { pids: 'watchdog' } })
  })

  it('says once, visibly, that the watchdog enforces the limit, and how to fix it', async () => {
    const cli = await cliAsUser(
      ['run', '--memory', '150M', '--', 'node', '-e', ALLOCATE_FOREVER],
      user,
    )
    expect(cli.exitCode).toBe(137)
    expect(cli.stderr.match(/polling watchdog/g)).toHaveLength(1)
    expect(cli.stderr).toContain(`${NSBOX_CLI} delegate --user ${user.name}`)
    expect(cli.stderr).toMatch(/nsbox: killed: memory limit 150 MiB exceeded \(peak/)
  })

  it("enforce: 'strict' refuses the watchdog; cpus has no fallback at all", async () => {
    const strict = await runAsUser('true', [], { memory: '1G', enforce: 'strict' }, user)
    expect(strict).toMatchObject({ error: { code: 'ERR_LIMIT_UNAVAILABLE', option: 'memory' } })
    const cpus = await runAsUser('true', [], { cpus: 1 }, user)
    expect(cpus).toMatchObject({ error: { code: 'ERR_LIMIT_UNAVAILABLE', option: 'cpus' } })
  })

  it('nsbox doctor explains the missing cgroup and prints the fix, exiting 0', async () => {
    const cli = await cliAsUser(['doctor'], user)
    expect(cli.exitCode).toBe(0)
    expect(cli.stdout).toContain('memory: watchdog, pids: watchdog, cpus: unavailable')
    expect(cli.stdout).toMatch(/fix: .*(main\.js delegate|systemd-run)/)
  })

  it.runIf(isRoot && support?.cgroups.version === 1)(
    'the fix nsbox doctor prints works when pasted, and gives the user a cgroup',
    async () => {
      const doctor = await cliAsUser(['doctor'], user)
      const fix = /^\s+fix: (.+)$/m.exec(doctor.stdout)?.[1] ?? ''
      expect(fix).toContain(`delegate --user ${user.name}`)
      try {
        const pasted = await execa('sh', ['-c', fix], { reject: false })
        expect(pasted.exitCode, pasted.stderr).toBe(0)
        const after = await runAsUser('true', [], { memory: '64M', enforce: 'strict' }, user)
        expect(after).toMatchObject({ exitCode: 0, enforcement: { memory: 'cgroup1' } })
      } finally {
        await execa(process.execPath, [NSBOX_CLI, 'delegate', '--user', user.name, '--undo'])
      }
    },
  )

  it.runIf(isRoot && support?.cgroups.version === 1)(
    'mixes backends when only the pids hierarchy is delegated: pids by cgroup, memory by the watchdog',
    async () => {
      const pidsDir = `/sys/fs/cgroup/pids/nsbox/user-${user.uid}`
      mkdirSync(pidsDir, { recursive: true })
      chownSync(pidsDir, user.uid, user.gid)
      chownSync(`${pidsDir}/cgroup.procs`, user.uid, user.gid)
      try {
        const result = await sandboxAsUser(
          'node',
          ['-e', ALLOCATE_FOREVER],
          { memory: '150M', pids: 64 },
          user,
        )
        expect(result).toMatchObject({
          killedBy: 'memory',
          enforcement: { memory: 'watchdog', pids: 'cgroup1' },
        })
      } finally {
        rmdirSync(pidsDir)
      }
    },
  )

  it.runIf(isRoot)(
    'after the fix, sudo nsbox delegate, the same user gets cgroup limits',
    async () => {
      const report = await runDelegatedAsUser(user, 'node', ['-e', ALLOCATE_FOREVER], {
        memory: '96M',
        cpus: 0.5,
      })
      expect(report).toMatchObject({
        killedBy: 'memory',
        enforcement: { memory: expect.stringMatching(/^cgroup[12]$/) },
      })
      // The delegation ended with its command (v2) or was undone (v1): back to the watchdog.
      expect((await probeAsUser(user)).cgroups.backend).toBeNull()
    },
  )
})

describe.runIf(canSandbox)('limits everywhere', () => {
  it('reports CPU time even without limits', async () => {
    const work = 'let x = 0; for (let i = 0; i < 5e7; i++) x += i'
    const result = await sandboxAsUser('node', ['-e', work])
    expect(result).toMatchObject({ exitCode: 0, memoryPeak: null, enforcement: {} })
    expect(result.cpuTime).toBeGreaterThan(10)
  })

  it.runIf(isRoot)('nsbox delegate names a user that does not exist', async () => {
    const cli = await execa(process.execPath, [NSBOX_CLI, 'delegate', '--user', 'no-such-user-x'], {
      reject: false,
    })
    expect(cli.exitCode).toBe(125)
    expect(cli.stderr).toContain('no user named no-such-user-x. Give an existing user name or uid.')
  })

  it('refuses caps too small for any sandbox to start, naming the minimum', async () => {
    expect(await runAsUser('true', [], { pids: 1 })).toMatchObject({
      error: {
        code: 'ERR_INVALID_OPTION',
        option: 'pids',
        message:
          "nsbox: The `pids` option must be at least 2, for the sandbox's init and the command, got `1` (number).",
      },
    })
    for (const memory of ['1K', '64K']) {
      expect(await runAsUser('true', [], { memory })).toMatchObject({
        error: {
          code: 'ERR_INVALID_OPTION',
          option: 'memory',
          message: `nsbox: The \`memory\` option must be at least 4 MiB, what a sandbox needs to start, got \`"${memory}"\` (string).`,
        },
      })
    }
    expect(await runAsUser('true', [], { pids: 0 })).toMatchObject({
      error: { code: 'ERR_INVALID_OPTION', message: expect.stringContaining('must be positive') },
    })
  })

  it.runIf(support?.cgroups.limits.cpus)(
    'cpus above the CPUs this process may use: a warning that says so',
    async () => {
      const cpus = availableParallelism() + 2
      const { report, warnings } = await runWithWarningsAsUser('true', [], { cpus })
      expect(report).toMatchObject({ exitCode: 0 })
      expect(warnings).toContainEqual({
        code: 'NSBOX_CPUS_ABOVE_HOST',
        message: expect.stringContaining(`\`cpus: ${cpus}\` is more than the`),
      })
    },
  )

  it.runIf(isRoot && backend === 'cgroup1')(
    'nsbox delegate says what failed on a cgroup filesystem it cannot write, without a stack trace',
    async () => {
      // Every cgroup mount read-only, in a mount namespace of this test's own.
      const readOnly =
        'for m in $(awk \'$3 ~ /^cgroup/ {print $2}\' /proc/mounts); do mount -o remount,bind,ro "$m" || exit 1; done'
      const cli = await execa(
        'unshare',
        [
          '--mount',
          'sh',
          '-c',
          `${readOnly} && exec "$0" "$@"`,
          process.execPath,
          NSBOX_CLI,
          'delegate',
          '--user',
          'nobody',
        ],
        { reject: false },
      )
      expect(cli.exitCode).toBe(125)
      expect(cli.stderr).toMatch(
        /^nsbox delegate: could not delegate cgroups to nobody: E[A-Z]+ on \/sys\/fs\/cgroup\/\S+\. Run `nsbox doctor`/,
      )
      expect(cli.stderr).not.toContain('    at ')
    },
  )

  it('nsbox delegate refuses to run without root, saying how', async () => {
    const cli = await cliAsUser(['delegate', '--user', 'nobody'])
    expect(cli.exitCode).toBe(125)
    expect(cli.stderr).toContain('needs root. Run: sudo nsbox delegate --user nobody')
  })
})
