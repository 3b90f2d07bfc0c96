// Jest suites on the nsbox runner (a sandbox per file, and per worker) against Jest's
// default runner: trivial files, files that each do about 300 ms of real work, and
// TypeScript files through ts-jest with type-checking on. Each run's wall time and the CPU
// time of everything it started; plus the peak memory of each per-file sandbox.
import {
  cpSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ADD_SOURCE, trivialTest, typedTest, WORK_MODULES, workTest } from './suite-sources.mjs'
import { interleave, timeNodeRun, writeSuiteProject } from './support.mjs'

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url))

/** The Jest contenders, the baseline last. */
export const JEST = {
  nsbox: 'nsbox runner',
  nsboxWorker: "nsbox runner, isolate: 'worker'",
  baseline: 'Jest default runner',
}

/**
 * The suites: what each test file does, what else the project needs, and the target of
 * `isolate: 'file'` against Jest's default runner.
 */
export const JEST_SUITES = {
  trivial: {
    title: 'trivial files',
    target: 1.5,
    extension: 'js',
    source: trivialTest,
  },
  work: {
    title: 'files of about 300 ms of work each (CPU, file I/O and a wait)',
    target: 1.15,
    extension: 'js',
    source: (i) =>
      `${WORK_MODULES.map(([name, module]) => `const ${name} = require('${module}')\n`).join('')}${workTest(i)}`,
  },
  tsJest: {
    title: 'TypeScript files through ts-jest, type-checking on',
    target: 1.5,
    extension: 'ts',
    source: typedTest,
    files: {
      'src/add.ts': ADD_SOURCE,
      // Jest's globals, typed just enough for the files (no @types/jest to install).
      'src/globals.d.ts': [
        'declare function test(name: string, body: () => void | Promise<void>): void',
        'declare function expect(actual: unknown): { toBe(expected: unknown): void }',
        '',
      ].join('\n'),
      'tsconfig.json': `${JSON.stringify({ compilerOptions: { strict: true, target: 'es2022', module: 'commonjs', types: [] } })}\n`,
    },
    dependencies: ['ts-jest', 'typescript'],
    config: { transform: { '^.+\\.ts$': 'ts-jest' } },
  },
}

/**
 * Writes a Jest project of `fileCount` files of `suite`, installed as npm would install
 * nsbox (Jest runs a runner outside node_modules through its transforms), with one config
 * per contender. Returns its root, and the config file of each contender.
 */
export function writeJestProject(suite, fileCount) {
  const root = writeSuiteProject('jest', suite, fileCount, '{ "private": true }\n')
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
  const linked = ['jest', ...(suite.dependencies ?? [])].map((name) => [
    name,
    `node_modules/${name}`,
  ])
  for (const [name, from] of [...dependencies, ...linked]) {
    symlinkSync(
      realpathSync(path.join(repositoryRoot, from)),
      path.join(root, 'node_modules', name),
    )
  }
  const base = {
    testEnvironment: 'node',
    cacheDirectory: '<rootDir>/.jest-cache',
    ...suite.config,
  }
  const configs = {
    [JEST.nsbox]: { ...base, runner: ['@nsbox/jest-env', {}] },
    [JEST.nsboxWorker]: { ...base, runner: ['@nsbox/jest-env', { isolate: 'worker' }] },
    [JEST.baseline]: base,
  }
  const configFiles = {}
  for (const [name, config] of Object.entries(configs)) {
    configFiles[name] = `${name.replace(/\W+/g, '-')}.config.js`
    writeFileSync(
      path.join(root, configFiles[name]),
      `module.exports = ${JSON.stringify(config)}\n`,
    )
  }
  return { root, configFiles }
}

/** The arguments that run Jest in a project written by {@link writeJestProject}. */
export function jestArguments(root, configFile, maxWorkers, extra = []) {
  const jest = path.join(root, 'node_modules/jest/bin/jest.js')
  return [jest, '--ci', '--config', configFile, `--maxWorkers=${maxWorkers}`, ...extra]
}

/**
 * Runs `suite` on each contender, `rounds` times interleaved after one unmeasured run each
 * (so that all find Jest's cache filled); returns wall and CPU times, and the peak memory
 * of each per-file sandbox.
 */
export function measureJest({ suite, fileCount, rounds, maxWorkers, progress }) {
  const { root, configFiles } = writeJestProject(JEST_SUITES[suite], fileCount)
  const runOnce = (name) =>
    timeNodeRun(name, jestArguments(root, configFiles[name], maxWorkers), root)
  try {
    for (const name of Object.keys(configFiles)) runOnce(name)
    const measured = interleave(Object.keys(configFiles), rounds, runOnce, JEST.nsbox, progress)
    return { suite, fileCount, ...measured }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
