// Wall time of a suite of trivial Vitest test files on the nsbox pool against Vitest's own
// forks pool, in interleaved rounds (medians), plus the peak memory of each sandboxed
// worker. Run as the user whose sandboxes you want to measure (not root, for rootless).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { interleave, printPeaks, printRatio, printRounds, timeNodeRun } from './support.mjs'

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url))
const fileCount = Number(process.env.BENCH_FILES ?? 24)
const rounds = Number(process.env.BENCH_ROUNDS ?? 5)
const maxWorkers = Number(process.env.BENCH_WORKERS ?? 2)
// sandbox()'s options as JavaScript, such as "{ memory: false }" (default: its defaults).
const poolOptions = process.env.BENCH_POOL_OPTIONS ?? ''

const root = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), 'nsbox-bench-vitest-'))
mkdirSync(path.join(root, 'tests'))
mkdirSync(path.join(root, 'node_modules/@nsbox'), { recursive: true })
symlinkSync(
  path.join(repositoryRoot, 'node_modules/vitest'),
  path.join(root, 'node_modules/vitest'),
)
symlinkSync(
  path.join(repositoryRoot, 'packages/vitest-plugin'),
  path.join(root, 'node_modules/@nsbox/vitest-plugin'),
)
writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n')
for (let i = 1; i <= fileCount; i++) {
  writeFileSync(
    path.join(root, `tests/trivial-${i}.test.js`),
    `import { expect, test } from 'vitest'\ntest('trivial ${i}', () => { expect(${i} + 1).toBe(${i + 1}) })\n`,
  )
}
const configs = {
  'nsbox sandbox()': `import { sandbox } from '@nsbox/vitest-plugin'\nexport default { test: { pool: sandbox(${poolOptions}) } }\n`,
  'vitest forks': "export default { test: { pool: 'forks' } }\n",
}
for (const [name, config] of Object.entries(configs)) {
  writeFileSync(path.join(root, configFile(name)), config)
}

function configFile(name) {
  return `${name.replace(/\W+/g, '-')}.config.js`
}

const vitest = path.join(repositoryRoot, 'node_modules/vitest/vitest.mjs')
const runOnce = (name) =>
  timeNodeRun(
    name,
    [vitest, 'run', '--config', configFile(name), `--maxWorkers=${maxWorkers}`],
    root,
  )

console.log(
  `${fileCount} trivial files, --maxWorkers=${maxWorkers}, ${rounds} interleaved rounds, Node ${process.version}`,
)
const { samples, peaks } = interleave(Object.keys(configs), rounds, runOnce, 'nsbox sandbox()')
rmSync(root, { recursive: true, force: true })

printRounds('pool', samples)
console.log('')
printRatio('nsbox sandbox()', samples, 'vitest forks', 1.1)
printPeaks('sandboxed worker', peaks)
