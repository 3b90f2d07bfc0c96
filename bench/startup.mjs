// Per-sandbox cost of sequential `run('true')`, with and without a memory cap, against
// bubblewrap with comparable isolation, raw `unshare` with the same namespaces and a
// plain spawn; and how many sandboxes a second start when several start at once.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { closeSpares, run } from '@nsbox/core'

/** The launchers compared, by name. */
export const LAUNCHERS = {
  nsbox: 'nsbox run()',
  nsboxMemory: 'nsbox run() with memory cap',
  nsboxCold: 'nsbox run(), NSBOX_SPARES=0',
  nsboxColdMemory: 'nsbox run() with memory cap, NSBOX_SPARES=0',
  nsboxSeccomp: 'nsbox run() with seccomp',
  nsboxUntrusted: 'nsbox run() with untrusted',
  bubblewrap: 'bubblewrap',
  bubblewrapStrict: 'bubblewrap, strict',
  unshare: 'raw unshare',
  spawn: 'plain spawn',
}

/** What bubblewrap runs with: isolation comparable to nsbox's default. */
export const BWRAP_ARGS = [
  '--unshare-all',
  '--die-with-parent',
  '--ro-bind',
  '/',
  '/',
  '--dev',
  '/dev',
  '--proc',
  '/proc',
  '--tmpfs',
  '/tmp',
]

/** bubblewrap's strict setup, the one docs/untrusted.md compares `untrusted` with. */
export const BWRAP_STRICT_ARGS = [...BWRAP_ARGS, '--new-session']

const quiet = { extendEnv: false, env: { PATH: '/usr/bin:/bin' }, cwd: '/' }

const launchers = {
  [LAUNCHERS.nsbox]: () => run('true', [], quiet),
  [LAUNCHERS.nsboxMemory]: () => run('true', [], { ...quiet, memory: '256M' }),
  [LAUNCHERS.nsboxCold]: () => withoutSpares(() => run('true', [], quiet)),
  [LAUNCHERS.nsboxColdMemory]: () =>
    withoutSpares(() => run('true', [], { ...quiet, memory: '256M' })),
  [LAUNCHERS.nsboxSeccomp]: () => run('true', [], { ...quiet, seccomp: true }),
  [LAUNCHERS.nsboxUntrusted]: () => run('true', [], { ...quiet, untrusted: true }),
  [LAUNCHERS.bubblewrap]: () => spawnAndWait('bwrap', [...BWRAP_ARGS, 'true']),
  [LAUNCHERS.bubblewrapStrict]: () => spawnAndWait('bwrap', [...BWRAP_STRICT_ARGS, 'true']),
  [LAUNCHERS.unshare]: () =>
    spawnAndWait('unshare', [
      '--user',
      '--map-root-user',
      '--pid',
      '--fork',
      '--kill-child',
      '--mount-proc',
      '--uts',
      '--ipc',
      '--net',
      'true',
    ]),
  [LAUNCHERS.spawn]: () => spawnAndWait('true', []),
}

/** Whether bubblewrap is installed (`apt-get install bubblewrap`). */
export async function hasBubblewrap() {
  return spawnAndWait('bwrap', ['--version']).then(
    (code) => code === 0,
    () => false,
  )
}

/**
 * Milliseconds per sequential launch of each launcher, and CPU milliseconds per launch
 * of all processes involved (this one and its children): `rounds` interleaved rounds of
 * `perRound` launches (after 5 to warm up).
 */
export async function measureStartup({ rounds, perRound, progress }) {
  const needsBwrap = [LAUNCHERS.bubblewrap, LAUNCHERS.bubblewrapStrict]
  const names = Object.keys(launchers).filter((name) => hasBwrap || !needsBwrap.includes(name))
  const samples = Object.fromEntries(names.map((name) => [name, []]))
  const cpu = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 1; round <= rounds; round++) {
    for (const name of names) {
      const once = launchers[name]
      for (let i = 0; i < 5; i++) await once()
      const cpuBefore = cpuMilliseconds()
      const started = performance.now()
      for (let i = 0; i < perRound; i++) await once()
      samples[name].push((performance.now() - started) / perRound)
      // The last spare is counted by the next contender; ended here, it is counted here.
      await closeSpares()
      cpu[name].push((cpuMilliseconds() - cpuBefore) / perRound)
    }
    progress(`round ${round}/${rounds}`)
  }
  return { samples, cpu }
}

async function withoutSpares(launch) {
  process.env.NSBOX_SPARES = '0'
  try {
    return await launch()
  } finally {
    delete process.env.NSBOX_SPARES
  }
}

// CPU time of this process and of its children that have been waited for.
function cpuMilliseconds() {
  const own = process.cpuUsage()
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')
  // Fields 16 and 17 of stat (cutime, cstime), in clock ticks of 10 ms.
  const children = (Number(fields[13]) + Number(fields[14])) * 10
  return (own.user + own.system) / 1000 + children
}

/**
 * Sandboxes started per second when `level` start at once, for nsbox and bubblewrap:
 * `total` launches in all, `level` at a time, in interleaved rounds.
 */
export async function measureConcurrency({ levels, total, rounds, progress }) {
  const names = [LAUNCHERS.nsbox, ...(hasBwrap ? [LAUNCHERS.bubblewrap] : [])]
  const perSecond = {}
  for (const name of names) perSecond[name] = Object.fromEntries(levels.map((level) => [level, []]))
  for (let round = 1; round <= rounds; round++) {
    for (const level of levels) {
      for (const name of names) {
        const started = performance.now()
        let next = 0
        const worker = async () => {
          while (next < total) {
            next++
            await launchers[name]()
          }
        }
        await Promise.all(Array.from({ length: level }, worker))
        perSecond[name][level].push(total / ((performance.now() - started) / 1000))
      }
    }
    progress(`round ${round}/${rounds}`)
  }
  return { perSecond }
}

/** Whether bubblewrap is installed here. */
export const hasBwrap = await hasBubblewrap()

function spawnAndWait(file, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'ignore', env: {} })
    child.on('error', reject)
    child.on('exit', resolve)
  })
}
