// Per-sandbox cost of sequential `run('true')`, against bubblewrap with comparable
// isolation, raw `unshare` with the same namespaces, and a plain spawn. Interleaved
// rounds, medians; the headline is the ratio to bubblewrap, not the milliseconds.
import { spawn } from 'node:child_process'
import { run } from '@nsbox/core'

const rounds = Number(process.env.BENCH_ROUNDS ?? 7)
const perRound = Number(process.env.BENCH_RUNS ?? 100)
const spawnAndWait = (file, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'ignore', env: {} })
    child.on('error', reject)
    child.on('exit', resolve)
  })

const candidates = {
  'nsbox run()': () =>
    run('true', [], { extendEnv: false, env: { PATH: '/usr/bin:/bin' }, cwd: '/' }),
  'nsbox run() with memory cap': () =>
    run('true', [], {
      extendEnv: false,
      env: { PATH: '/usr/bin:/bin' },
      cwd: '/',
      memory: '256M',
    }),
  bubblewrap: () =>
    spawnAndWait('bwrap', [
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
      'true',
    ]),
  'raw unshare': () =>
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
  'plain spawn': () => spawnAndWait('true', []),
}

const hasBwrap = await spawnAndWait('bwrap', ['--version']).then(
  (code) => code === 0,
  () => false,
)
if (!hasBwrap) {
  delete candidates.bubblewrap
  console.log('bubblewrap is not installed (apt-get install bubblewrap): comparing without it.\n')
}

const samples = Object.fromEntries(Object.keys(candidates).map((name) => [name, []]))
console.log(
  `uid ${process.getuid()}, Node ${process.version}, ${rounds} rounds × ${perRound} sequential runs each\n`,
)
for (let round = 1; round <= rounds; round++) {
  for (const [name, once] of Object.entries(candidates)) {
    for (let i = 0; i < 5; i++) await once() // warm up
    const started = performance.now()
    for (let i = 0; i < perRound; i++) await once()
    samples[name].push((performance.now() - started) / perRound)
  }
  process.stdout.write(`round ${round}/${rounds} done\r`)
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
console.log('\n\n| launcher | median ms per run | rounds (ms) |\n|---|---|---|')
for (const [name, values] of Object.entries(samples)) {
  console.log(
    `| ${name} | ${median(values).toFixed(2)} | ${values.map((value) => value.toFixed(2)).join(' ')} |`,
  )
}
if (hasBwrap) {
  const targets = [
    ['nsbox run()', 1.0],
    ['nsbox run() with memory cap', 1.25],
  ]
  for (const [name, target] of targets) {
    const ratio = median(samples[name]) / median(samples.bubblewrap)
    console.log(
      `\n${name} / bubblewrap = ${ratio.toFixed(2)} (target ≤ ${target.toFixed(2)}): ${ratio <= target ? 'PASS' : 'FAIL'}`,
    )
  }
}
