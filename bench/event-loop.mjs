// How long a launch holds the caller's event loop, against a bare child_process.spawn(),
// and how late timeouts fire while many sandboxes start at once.
import { spawn as spawnChild } from 'node:child_process'
import { closeSpares, spawn } from '@nsbox/core'

const quiet = { extendEnv: false, env: { PATH: '/usr/bin:/bin' }, cwd: '/' }

/** The `p`-th percentile (0 to 1) of some samples. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

// Resolves on the next turn of the event loop, with how long this one was held.
function nextTurn(since) {
  return new Promise((resolve) => setImmediate(() => resolve(performance.now() - since)))
}

/**
 * The event-loop block of one launch at a time: from before the call until the next turn
 * of the loop, which comes after everything the launch did synchronously. For nsbox that
 * takes in the turn its launcher starts in (the turn after `spawn()`), so two turns.
 */
async function blockPerLaunch(count, launch, turns) {
  const blocks = []
  for (let index = 0; index < count; index++) {
    const started = performance.now()
    const child = launch()
    let held = await nextTurn(started)
    for (let turn = 1; turn < turns; turn++)
      held = Math.max(held, await nextTurn(performance.now()))
    blocks.push(held)
    await child.done
  }
  return blocks
}

const bareSpawn = () => {
  const child = spawnChild('true', [], { stdio: 'ignore', env: {} })
  return { done: new Promise((resolve) => child.on('close', resolve)) }
}
const nsboxSpawn = () => {
  const sandbox = spawn('true', [], { ...quiet, stdio: 'ignore' })
  return { done: sandbox.result }
}

/**
 * A burst of `burst` sandboxes of `sleep 10` started at once with a 200 ms timeout: the
 * longest turns of the event loop meanwhile (each one a launcher's start, or a teardown),
 * and how late each timeout's result settled.
 */
async function burstOfTimeouts(burst, timeoutMs) {
  const turns = []
  let isRunning = true
  const watch = async () => {
    while (isRunning) turns.push(await nextTurn(performance.now()))
  }
  const watching = watch()
  const sandboxes = Array.from({ length: burst }, () =>
    spawn('sleep', ['10'], { ...quiet, stdio: 'ignore', timeout: timeoutMs }),
  )
  const results = await Promise.all(sandboxes.map((sandbox) => sandbox.result))
  isRunning = false
  await watching
  const lateness = results
    .filter((result) => result.killedBy === 'timeout')
    .map((result) => result.duration - timeoutMs)
  return { turns, lateness }
}

/**
 * `rounds` of: the block per launch of a bare spawn of `true` and of nsbox's `spawn()`,
 * `perRound` sequential launches each, then a burst of `burst` with a 200 ms timeout.
 */
export async function measureEventLoop({ rounds, perRound, burst, progress }) {
  const samples = { spawnBlock: [], nsboxBlock: [], burstTurn: [], lateness: [] }
  for (let round = 1; round <= rounds; round++) {
    samples.spawnBlock.push(...(await blockPerLaunch(perRound, bareSpawn, 1)))
    samples.nsboxBlock.push(...(await blockPerLaunch(perRound, nsboxSpawn, 2)))
    await closeSpares()
    const { turns, lateness } = await burstOfTimeouts(burst, 200)
    samples.burstTurn.push(...turns)
    samples.lateness.push(...lateness)
    await closeSpares()
    progress(`round ${round}/${rounds}`)
  }
  const summary = (values) => ({ p50: percentile(values, 0.5), p99: percentile(values, 0.99) })
  return {
    burst,
    timeoutMs: 200,
    spawnBlock: summary(samples.spawnBlock),
    nsboxBlock: summary(samples.nsboxBlock),
    burstTurn: summary(samples.burstTurn),
    lateness: { ...summary(samples.lateness), max: Math.max(...samples.lateness) },
  }
}
