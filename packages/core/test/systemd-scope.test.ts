import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { closeSpares, probe, run, type SandboxResult } from '@nsbox/core'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'

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

describe.runIf(isUndelegatedV2 && hasUserManager)('cgroup v2 through a systemd user scope', () => {
  afterAll(() => closeSpares())

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

  it('leaves no scope and no cgroup once the calling process has exited', async () => {
    const script = `
      const { closeSpares, probe, run } = await import(${JSON.stringify(CORE)})
      const results = await Promise.all([1, 2, 3].map(() => run('true', [], { memory: '64M', pids: 32 })))
      const { cgroups } = await probe()
      console.log(JSON.stringify({ scope: cgroups.systemdScope, parent: cgroups.sandboxParents[0], results }))
    `
    const child = await execa(process.execPath, ['--input-type=module', '-e', script])
    const { scope, parent, results } = JSON.parse(child.stdout) as {
      scope: string
      parent: string
      results: SandboxResult[]
    }
    expect(results.map((result) => result.enforcement)).toEqual(
      Array(3).fill({ memory: 'cgroup2', pids: 'cgroup2' }),
    )
    expect(parent).toContain(`/${scope}`)
    // The manager collects the scope once its last process is gone.
    expect(await waitUntilRemoved(parent, 30_000)).toBe(true)
    const state = await execa('systemctl', ['--user', 'show', '-p', 'LoadState', '--value', scope])
    expect(state.stdout.trim()).toBe('not-found')
  })

  it('NSBOX_SYSTEMD_SCOPE=0 keeps the watchdog and says how the scope was turned off', async () => {
    const script = `
      const { run } = await import(${JSON.stringify(CORE)})
      const result = await run('true', [], { memory: '64M' })
      console.log(JSON.stringify(result.enforcement))
    `
    const child = await execa(process.execPath, ['--input-type=module', '-e', script], {
      env: { NSBOX_SYSTEMD_SCOPE: '0' },
    })
    expect(JSON.parse(child.stdout)).toEqual({ memory: 'watchdog' })
    expect(child.stderr).toContain('NSBOX_SYSTEMD_SCOPE=0')
  })
})

async function waitUntilRemoved(dir: string, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs
  while (existsSync(dir)) {
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return true
}
