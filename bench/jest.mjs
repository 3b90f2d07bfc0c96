// Wall time of a suite of trivial Jest test files on the nsbox runner against Jest's own
// default runner, in interleaved rounds (medians), plus the peak memory of each file's
// sandbox. Run as the user whose sandboxes you want to measure (not root, for rootless).
import { spawnSync } from 'node:child_process'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url))
const fileCount = Number(process.env.BENCH_FILES ?? 24)
const rounds = Number(process.env.BENCH_ROUNDS ?? 5)
const maxWorkers = Number(process.env.BENCH_WORKERS ?? 2)
// The runner's options as JSON, such as '{ "memory": false }' (default: its defaults).
const runnerOptions = JSON.parse(process.env.BENCH_RUNNER_OPTIONS ?? '{}')

const root = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), 'nsbox-bench-jest-'))
mkdirSync(path.join(root, 'tests'))
// Installed as npm would: Jest runs a runner outside node_modules through its transforms.
for (const name of ['core', 'jest-env']) {
  const copy = path.join(root, 'node_modules/@nsbox', name)
  mkdirSync(copy, { recursive: true })
  cpSync(
    path.join(repositoryRoot, 'packages', name, 'package.json'),
    path.join(copy, 'package.json'),
  )
  cpSync(path.join(repositoryRoot, 'packages', name, 'dist'), path.join(copy, 'dist'), {
    recursive: true,
  })
}
symlinkSync(
  realpathSync(path.join(repositoryRoot, 'packages/jest-env/node_modules/p-limit')),
  path.join(root, 'node_modules/p-limit'),
)
symlinkSync(
  realpathSync(path.join(repositoryRoot, 'node_modules/jest')),
  path.join(root, 'node_modules/jest'),
)
writeFileSync(path.join(root, 'package.json'), '{ "private": true }\n')
for (let i = 1; i <= fileCount; i++) {
  writeFileSync(
    path.join(root, `tests/trivial-${i}.test.js`),
    `test('trivial ${i}', () => { expect(${i} + 1).toBe(${i + 1}) })\n`,
  )
}
const base = { testEnvironment: 'node', cacheDirectory: '<rootDir>/.jest-cache' }
const configs = {
  'nsbox runner': { ...base, runner: ['@nsbox/jest-env', runnerOptions] },
  'jest default': base,
}
for (const [name, config] of Object.entries(configs)) {
  writeFileSync(path.join(root, configFile(name)), `module.exports = ${JSON.stringify(config)}\n`)
}

function configFile(name) {
  return `${name.replace(/\W+/g, '-')}.config.js`
}

const jest = path.join(root, 'node_modules/jest/bin/jest.js')
const runOnce = (name) => {
  const started = performance.now()
  const child = spawnSync(
    process.execPath,
    [jest, '--ci', '--config', configFile(name), `--maxWorkers=${maxWorkers}`],
    { cwd: root, env: { ...process.env, NSBOX_DEBUG: '1', NO_COLOR: '1' }, encoding: 'utf8' },
  )
  const ms = performance.now() - started
  if (child.status !== 0) {
    console.error(`${name} failed:\n${child.stdout}\n${child.stderr}`)
    rmSync(root, { recursive: true, force: true })
    process.exit(1)
  }
  return { ms, output: child.stderr }
}

const samples = Object.fromEntries(Object.keys(configs).map((name) => [name, []]))
const peaks = []
console.log(
  `${fileCount} trivial files, --maxWorkers=${maxWorkers}, ${rounds} interleaved rounds, Node ${process.version}`,
)
// One unmeasured run each, so that both find Jest's cache filled.
for (const name of Object.keys(configs)) runOnce(name)
for (let round = 1; round <= rounds; round++) {
  for (const name of Object.keys(configs)) {
    const result = runOnce(name)
    samples[name].push(result.ms)
    if (name.startsWith('nsbox'))
      peaks.push(...[...result.output.matchAll(/memoryPeak (\d+) bytes/g)].map((m) => Number(m[1])))
  }
  process.stdout.write(`round ${round}/${rounds} done\r`)
}
rmSync(root, { recursive: true, force: true })

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
console.log('\n\n| runner | median wall ms | rounds (ms) |\n|---|---|---|')
for (const [name, values] of Object.entries(samples)) {
  console.log(
    `| ${name} | ${median(values).toFixed(0)} | ${values.map((v) => v.toFixed(0)).join(' ')} |`,
  )
}
const ratio = median(samples['nsbox runner']) / median(samples['jest default'])
console.log(
  `\nnsbox / default = ${ratio.toFixed(2)} (target ≤ 1.15): ${ratio <= 1.15 ? 'PASS' : 'FAIL'}`,
)
if (peaks.length > 0) {
  const mib = (bytes) => (bytes / 1024 ** 2).toFixed(1)
  console.log(
    `peak memory per sandboxed file: median ${mib(median(peaks))} MiB, max ${mib(Math.max(...peaks))} MiB (${peaks.length} files)`,
  )
}
