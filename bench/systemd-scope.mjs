// Cost of the systemd user scope path, where it applies (cgroup v2, an undelegated login
// session, the user's systemd manager running: `pnpm test:cgroup2:systemd` with
// NSBOX_VM_COMMAND="node bench/systemd-scope.mjs"). Prints, without writing any file:
// the one-time cost of moving a process into its scope (median over fresh processes, as
// nsbox's debug output times it), and the per-sandbox cost of sequential `run('true')`
// with a memory cap against the same without one, in interleaved rounds.
import { spawnSync } from 'node:child_process'
import { closeSpares, probe, run } from '@nsbox/core'
import { median, printRatio, printRounds } from './support.mjs'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 20)
const FRESH_PROCESSES = Number(process.env.BENCH_FRESH ?? 5)
const quiet = { extendEnv: false, env: { PATH: '/usr/bin:/bin' }, cwd: '/' }

const oneSandbox = `
  const { run } = await import('@nsbox/core')
  await run('true', [], { memory: '256M', extendEnv: false, env: { PATH: '/usr/bin:/bin' }, cwd: '/' })
`
const scopeMs = []
for (let i = 0; i < FRESH_PROCESSES; i++) {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', oneSandbox], {
    cwd: new URL('.', import.meta.url),
    env: { ...process.env, NSBOX_DEBUG: '1' },
    encoding: 'utf8',
  })
  const moved = /moved into the systemd user scope \S+ in ([\d.]+) ms/.exec(child.stderr)
  if (child.status !== 0 || !moved) {
    console.error(`no systemd user scope here (exit ${child.status}):\n${child.stderr}`)
    process.exit(1)
  }
  scopeMs.push(Number(moved[1]))
}
console.log(
  `one-time cost of the systemd user scope (StartTransientUnit and the move), ${FRESH_PROCESSES} fresh processes: median ${median(scopeMs).toFixed(1)} ms (${scopeMs.map((ms) => ms.toFixed(1)).join(' ')})`,
)

const support = await probe()
console.log(
  `this process: ${support.cgroups.systemdScope}, limits ${JSON.stringify(support.cgroups.limits)}`,
)
const launchers = {
  'run()': () => run('true', [], quiet),
  'run() with memory cap via the scope': () => run('true', [], { ...quiet, memory: '256M' }),
}
const samples = Object.fromEntries(Object.keys(launchers).map((name) => [name, []]))
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, once] of Object.entries(launchers)) {
    for (let i = 0; i < 3; i++) await once()
    const started = performance.now()
    for (let i = 0; i < PER_ROUND; i++) await once()
    samples[name].push((performance.now() - started) / PER_ROUND)
    await closeSpares()
  }
}
printRounds(`sequential run('true'), ${PER_ROUND} per round, ms per launch`, samples)
printRatio('run() with memory cap via the scope', samples, 'run()', 1.25)
