import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { closeSpares, probe, run, type SandboxResult } from '@nsbox/core'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Runs where most developers are: cgroup v2 under systemd, in a login session whose scope
// is not delegated, with the user's systemd manager running (the systemd VM leg,
// `pnpm test:cgroup2:systemd`). Everything here runs in this process, as that user, with
// no `nsbox delegate`.
const CORE = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const MiB = 1024 ** 2
const ALLOCATE_FOREVER = 'const chunks = []; for (;;) chunks.push(Buffer.alloc(1 << 20, 1))'
const FORK_FOREVER = 'while :; do sleep 5 & done'
const BUSY_SECOND = 'const end = Date.now() + 1000; while (Date.now() < end);'

function ownCgroupDir(): string | null {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('0::'))
  return line === undefined ? null : `/sys/fs/cgroup${line.slice(3)}`
}

function isWritable(dir: string): boolean {
  try {
    accessSync(`${dir}/cgroup.procs`, constants.W_OK)
    return true
  } catch {
    return false
  }
}

const ownDir = ownCgroupDir()
const runtimeDir = process.env.XDG_RUNTIME_DIR
const isUndelegatedV2 =
  (process.getuid?.() ?? 0) !== 0 &&
  existsSync('/sys/fs/cgroup/cgroup.controllers') &&
  ownDir !== null &&
  !isWritable(ownDir)
const hasUserManager = runtimeDir !== undefined && existsSync(`${runtimeDir}/systemd/private`)
if (process.env.NSBOX_MUST_WORK === '1' && isUndelegatedV2 && !hasUserManager) {
  throw new Error(
    `NSBOX_MUST_WORK=1 on cgroup v2 in the undelegated cgroup ${ownDir}, but no systemd user manager is reachable ($XDG_RUNTIME_DIR/systemd/private)`,
  )
}

// Run by fresh processes of this user, started before this test process has a scope of
// its own: a child started afterwards would inherit that scope and need none.
const CHILD_WITH_LIMITS = `
  const { probe, run } = await import(${JSON.stringify(CORE)})
  const results = await Promise.all([1, 2, 3].map(() => run('true', [], { memory: '64M', pids: 32 })))
  const { cgroups } = await probe()
  console.log(JSON.stringify({ scope: cgroups.systemdScope, parent: cgroups.sandboxParents[0], results }))
`
const CHILD_TURNED_OFF = `
  const { run } = await import(${JSON.stringify(CORE)})
  const result = await run('true', [], { memory: '64M' })
  console.log(JSON.stringify(result.enforcement))
`

describe.runIf(isUndelegatedV2 && hasUserManager)('cgroup v2 through a systemd user scope', () => {
  let withLimits: { scope: string; parent: string; results: SandboxResult[] }
  let turnedOff: { enforcement: unknown; stderr: string }

  beforeAll(async () => {
    expect(ownDir !== null && isWritable(ownDir)).toBe(false)
    const node = (script: string, env: Record<string, string> = {}) =>
      execa(process.execPath, ['--input-type=module', '-e', script], { env })
    const [limited, off] = await Promise.all([
      node(CHILD_WITH_LIMITS),
      node(CHILD_TURNED_OFF, { NSBOX_SYSTEMD_SCOPE: '0' }),
    ])
    withLimits = JSON.parse(limited.stdout)
    turnedOff = { enforcement: JSON.parse(off.stdout), stderr: off.stderr }
  })
  afterAll(() => closeSpares())

  it('a process with limits gets cgroup v2 through its own scope, which goes when it exits', async () => {
    const { scope, parent, results } = withLimits
    expect(scope).toMatch(/^nsbox-\d+-[0-9a-z]+\.scope$/)
    expect(results.map((result) => result.enforcement)).toEqual(
      Array(3).fill({ memory: 'cgroup2', pids: 'cgroup2' }),
    )
    expect(parent).toContain(`/${scope}`)
    // The manager collects the scope, with the cgroups below it, once its processes are gone.
    await expect.poll(() => existsSync(parent), { timeout: 30_000, interval: 25 }).toBe(false)
    const state = await execa('systemctl', ['--user', 'show', '-p', 'LoadState', '--value', scope])
    expect(state.stdout.trim()).toBe('not-found')
  })

  it('NSBOX_SYSTEMD_SCOPE=0 keeps the watchdog and says how the scope was turned off', () => {
    expect(turnedOff.enforcement).toEqual({ memory: 'watchdog' })
    expect(turnedOff.stderr).toContain('NSBOX_SYSTEMD_SCOPE=0')
  })

  it('probe() and doctor report cgroup v2 limits via the scope, with nothing missing', async () => {
    const support = await probe()
    expect(support.cgroups).toMatchObject({
      version: 2,
      backend: 'cgroup2',
      systemdScope: expect.stringMatching(/^nsbox-\d+-[0-9a-z]+\.scope$/),
      limits: { memory: 'cgroup2', pids: 'cgroup2', cpus: 'cgroup2' },
      missing: null,
    })
    expect(support.cgroups.sandboxParents[0]).toContain(`/${support.cgroups.systemdScope}`)
  })

  it('memory: killed by the cap, killedBy memory, peak at the cap', async () => {
    const result = await run('node', ['-e', ALLOCATE_FOREVER], { memory: '96M', enforce: 'strict' })
    expect(result).toMatchObject({
      signal: 'SIGKILL',
      killedBy: 'memory',
      enforcement: { memory: 'cgroup2' },
    })
    expect(result.memoryPeak).toBeGreaterThan(90 * MiB)
    expect(result.memoryPeak).toBeLessThanOrEqual(96 * MiB)
  })

  it('pids: a fork bomb ends with killedBy pids and never passes the cap', async () => {
    const result = await run('sh', ['-c', FORK_FOREVER], { pids: 16, timeout: '60s' })
    expect(result).toMatchObject({ killedBy: 'pids', enforcement: { pids: 'cgroup2' } })
    expect(result.pidsPeak).toBeGreaterThan(1)
    expect(result.pidsPeak).toBeLessThanOrEqual(16)
  })

  it('cpus: a busy loop gets about the share of a core it was given', async () => {
    const result = await run('node', ['-e', BUSY_SECOND], { cpus: 0.1 })
    expect(result).toMatchObject({ exitCode: 0, enforcement: { cpus: 'cgroup2' } })
    expect(result.cpuTime).toBeGreaterThan(0)
    expect(result.cpuTime).toBeLessThan(0.3 * result.duration)
  })
})
