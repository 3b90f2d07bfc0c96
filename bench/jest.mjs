// Wall time of a suite of trivial Jest test files on the nsbox runner against Jest's own
// default runner, in interleaved rounds (medians), plus the peak memory of each file's
// sandbox. Run as the user whose sandboxes you want to measure (not root, for rootless).
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
import { interleave, printPeaks, printRatio, printRounds, timeNodeRun } from './support.mjs'

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
  "nsbox runner, isolate: 'worker'": {
    ...base,
    runner: ['@nsbox/jest-env', { ...runnerOptions, isolate: 'worker' }],
  },
  'jest default': base,
}
for (const [name, config] of Object.entries(configs)) {
  writeFileSync(path.join(root, configFile(name)), `module.exports = ${JSON.stringify(config)}\n`)
}

function configFile(name) {
  return `${name.replace(/\W+/g, '-')}.config.js`
}

const jest = path.join(root, 'node_modules/jest/bin/jest.js')
const runOnce = (name) =>
  timeNodeRun(
    name,
    [jest, '--ci', '--config', configFile(name), `--maxWorkers=${maxWorkers}`],
    root,
  )

console.log(
  `${fileCount} trivial files, --maxWorkers=${maxWorkers}, ${rounds} interleaved rounds, Node ${process.version}`,
)
// One unmeasured run each, so that all find Jest's cache filled.
for (const name of Object.keys(configs)) runOnce(name)
const { samples, peaks } = interleave(Object.keys(configs), rounds, runOnce, 'nsbox runner')
rmSync(root, { recursive: true, force: true })

printRounds('runner', samples)
console.log('')
for (const name of Object.keys(configs).filter((name) => name.startsWith('nsbox'))) {
  printRatio(name, samples, 'jest default', 1.15)
}
printPeaks('sandboxed file', peaks)
