// Wall time of a suite of trivial Vitest test files on the nsbox pool against Vitest's own
// forks pool, in interleaved rounds (medians), plus the peak memory of each sandboxed
// worker. Run as the user whose sandboxes you want to measure (not root, for rootless).
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

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
  writeFileSync(path.join(root, `${name.replace(/\W+/g, '-')}.config.js`), config)
}

const vitest = path.join(repositoryRoot, 'node_modules/vitest/vitest.mjs')
const runOnce = (name) => {
  const started = performance.now()
  const child = spawnSync(
    process.execPath,
    [
      vitest,
      'run',
      '--config',
      `${name.replace(/\W+/g, '-')}.config.js`,
      `--maxWorkers=${maxWorkers}`,
    ],
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
for (let round = 1; round <= rounds; round++) {
  for (const name of Object.keys(configs)) {
    const result = runOnce(name)
    samples[name].push(result.ms)
    if (name.startsWith('nsbox'))
      peaks.push(
        ...[...`${result.output}`.matchAll(/memoryPeak (\d+) bytes/g)].map((m) => Number(m[1])),
      )
  }
  process.stdout.write(`round ${round}/${rounds} done\r`)
}
rmSync(root, { recursive: true, force: true })

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
console.log('\n\n| pool | median wall ms | rounds (ms) |\n|---|---|---|')
for (const [name, values] of Object.entries(samples)) {
  console.log(
    `| ${name} | ${median(values).toFixed(0)} | ${values.map((v) => v.toFixed(0)).join(' ')} |`,
  )
}
const ratio = median(samples['nsbox sandbox()']) / median(samples['vitest forks'])
console.log(
  `\nsandbox() / forks = ${ratio.toFixed(2)} (target ≤ 1.10): ${ratio <= 1.1 ? 'PASS' : 'FAIL'}`,
)
if (peaks.length > 0) {
  const mib = (bytes) => (bytes / 1024 ** 2).toFixed(1)
  console.log(
    `peak memory per sandboxed worker: median ${mib(median(peaks))} MiB, max ${mib(Math.max(...peaks))} MiB (${peaks.length} workers)`,
  )
}
