// Vitest suites on the nsbox pool against Vitest's forks pool (which also starts a process
// per file): trivial files, files that each do about 300 ms of real work, and TypeScript
// files. Each run's wall time and the CPU time of everything it started; plus the peak
// memory of each sandbox, from its cgroup.
import { rmSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ADD_SOURCE, trivialTest, typedTest, WORK_MODULES, workTest } from './suite-sources.mjs'
import { interleave, timeNodeRun, writeSuiteProject } from './support.mjs'

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url))

/** The Vitest contenders, the baseline last. */
export const VITEST = { nsbox: 'nsbox sandbox()', baseline: 'Vitest forks' }

const VITEST_IMPORTS = "import { expect, test } from 'vitest'\n"

/** The suites: what each test file does, and the target of the pool against forks. */
export const VITEST_SUITES = {
  trivial: {
    title: 'trivial files',
    target: 1.1,
    extension: 'js',
    source: (i) => `${VITEST_IMPORTS}${trivialTest(i)}`,
  },
  work: {
    title: 'files of about 300 ms of work each (CPU, file I/O and a wait)',
    target: 1.1,
    extension: 'js',
    source: (i) =>
      `${VITEST_IMPORTS}${WORK_MODULES.map(([name, module]) => `import ${name} from '${module}'\n`).join('')}${workTest(i)}`,
  },
  typescript: {
    title: 'TypeScript files (Vitest strips their types)',
    target: 1.1,
    extension: 'ts',
    source: (i) => `${VITEST_IMPORTS}${typedTest(i)}`,
    files: { 'src/add.ts': ADD_SOURCE },
  },
}

/**
 * Runs `suite` with `fileCount` files on each contender, `rounds` times interleaved;
 * returns wall and CPU times, and the peak memory of each sandboxed worker.
 */
export function measureVitest({ suite, fileCount, rounds, maxWorkers, progress }) {
  const root = writeSuiteProject(
    'vitest',
    VITEST_SUITES[suite],
    fileCount,
    '{ "type": "module" }\n',
  )
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
    const measured = interleave(
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
    return { suite, fileCount, ...measured }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

function writeConfigs(root, configs, render) {
  for (const [name, config] of Object.entries(configs)) {
    writeFileSync(path.join(root, configFile(name)), render(config))
  }
}

function configFile(name) {
  return `${name.replace(/\W+/g, '-')}.config.js`
}
