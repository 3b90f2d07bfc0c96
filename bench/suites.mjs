// Wall time of suites of trivial test files: Vitest on the nsbox pool against its forks
// pool, Jest on the nsbox runner (a sandbox per file, and per worker) against its default
// runner; plus the peak memory of each sandbox, from its cgroup.
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { interleave, timeNodeRun } from './support.mjs'

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url))

/** The Vitest contenders, the baseline last. */
export const VITEST = { nsbox: 'nsbox sandbox()', baseline: 'Vitest forks' }
/** The Jest contenders, the baseline last. */
export const JEST = {
  nsbox: 'nsbox runner',
  nsboxWorker: "nsbox runner, isolate: 'worker'",
  baseline: 'Jest default runner',
}

/**
 * Runs a Vitest suite of `fileCount` trivial files on each contender, `rounds` times
 * interleaved; returns wall times and the peak memory of each sandboxed worker.
 */
export function measureVitest({ fileCount, rounds, maxWorkers, progress }) {
  const root = project('vitest', fileCount, '{ "type": "module" }\n', (i) => {
    return `import { expect, test } from 'vitest'\ntest('trivial ${i}', () => { expect(${i} + 1).toBe(${i + 1}) })\n`
  })
  symlinkSync(
    path.join(repositoryRoot, 'node_modules/vitest'),
    path.join(root, 'node_modules/vitest'),
  )
  symlinkSync(
    path.join(repositoryRoot, 'packages/vitest-plugin'),
    path.join(root, 'node_modules/@nsbox/vitest-plugin'),
  )
  const configs = {
    [VITEST.nsbox]: `import { sandbox } from '@nsbox/vitest-plugin'\nexport default { test: { pool: sandbox() } }\n`,
    [VITEST.baseline]: "export default { test: { pool: 'forks' } }\n",
  }
  writeConfigs(root, configs, (config) => config)
  const vitest = path.join(repositoryRoot, 'node_modules/vitest/vitest.mjs')
  try {
    return interleave(
      Object.keys(configs),
      rounds,
      (name) =>
        timeNodeRun(
          name,
          [vitest, 'run', '--config', configFile(name), `--maxWorkers=${maxWorkers}`],
          root,
        ),
      VITEST.nsbox,
      progress,
    )
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

/**
 * Runs a Jest suite of `fileCount` trivial files on each contender, `rounds` times
 * interleaved after one unmeasured run each (so that all find Jest's cache filled);
 * returns wall times and the peak memory of each per-file sandbox.
 */
export function measureJest({ fileCount, rounds, maxWorkers, progress }) {
  const root = project('jest', fileCount, '{ "private": true }\n', (i) => {
    return `test('trivial ${i}', () => { expect(${i} + 1).toBe(${i + 1}) })\n`
  })
  // Installed as npm would: Jest runs a runner outside node_modules through its transforms.
  for (const name of ['core', 'jest-env']) {
    const copy = path.join(root, 'node_modules/@nsbox', name)
    mkdirSync(copy, { recursive: true })
    const source = path.join(repositoryRoot, 'packages', name)
    cpSync(path.join(source, 'package.json'), path.join(copy, 'package.json'))
    cpSync(path.join(source, 'dist'), path.join(copy, 'dist'), { recursive: true })
  }
  const dependencies = ['jest-env', 'core'].flatMap((name) =>
    Object.keys(
      JSON.parse(readFileSync(path.join(repositoryRoot, 'packages', name, 'package.json'), 'utf8'))
        .dependencies ?? {},
    )
      .filter((dependency) => !dependency.startsWith('@nsbox/'))
      .map((dependency) => [dependency, `packages/${name}/node_modules/${dependency}`]),
  )
  for (const [name, from] of [...dependencies, ['jest', 'node_modules/jest']]) {
    symlinkSync(
      realpathSync(path.join(repositoryRoot, from)),
      path.join(root, 'node_modules', name),
    )
  }
  const base = { testEnvironment: 'node', cacheDirectory: '<rootDir>/.jest-cache' }
  const configs = {
    [JEST.nsbox]: { ...base, runner: ['@nsbox/jest-env', {}] },
    [JEST.nsboxWorker]: { ...base, runner: ['@nsbox/jest-env', { isolate: 'worker' }] },
    [JEST.baseline]: base,
  }
  writeConfigs(root, configs, (config) => `module.exports = ${JSON.stringify(config)}\n`)
  const jest = path.join(root, 'node_modules/jest/bin/jest.js')
  const runOnce = (name) =>
    timeNodeRun(
      name,
      [jest, '--ci', '--config', configFile(name), `--maxWorkers=${maxWorkers}`],
      root,
    )
  try {
    for (const name of Object.keys(configs)) runOnce(name)
    return interleave(Object.keys(configs), rounds, runOnce, JEST.nsbox, progress)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

function project(runner, fileCount, packageJson, testSource) {
  const root = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), `nsbox-bench-${runner}-`))
  mkdirSync(path.join(root, 'tests'))
  mkdirSync(path.join(root, 'node_modules/@nsbox'), { recursive: true })
  writeFileSync(path.join(root, 'package.json'), packageJson)
  for (let i = 1; i <= fileCount; i++) {
    writeFileSync(path.join(root, `tests/trivial-${i}.test.js`), testSource(i))
  }
  return root
}

function writeConfigs(root, configs, render) {
  for (const [name, config] of Object.entries(configs)) {
    writeFileSync(path.join(root, configFile(name)), render(config))
  }
}

function configFile(name) {
  return `${name.replace(/\W+/g, '-')}.config.js`
}
