// pnpm bench: measures nsbox against bubblewrap, Vitest's forks pool and Jest's default
// runner, prints each result with its target, and writes docs/benchmarks.md and
// docs/benchmarks.svg from the same data (docs/benchmarks.json). BENCH_ONLY=startup,jest
// re-measures some sections and keeps the others' last figures. Run it as the user whose
// sandboxes you want to measure (an unprivileged one, for the rootless figures).
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { probe } from '@nsbox/core'
import { measureEventLoop } from './event-loop.mjs'
import { measureJestProfile } from './jest-profile.mjs'
import { measureJest } from './jest-suites.mjs'
import { measureOverhead } from './memory.mjs'
import { renderChart, renderMarkdown } from './render.mjs'
import { hasBwrap, measureConcurrency, measureStartup } from './startup.mjs'
import { measureVitest } from './vitest-suites.mjs'

const docs = (name) => fileURLToPath(new URL(`../docs/${name}`, import.meta.url))
const quick = process.env.BENCH_QUICK === '1' // a smoke run of the bench itself
const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim())
const maxWorkers = Number(process.env.BENCH_WORKERS ?? 2)

const sections = {
  startup: (progress) =>
    measureStartup({ rounds: quick ? 1 : 7, perRound: quick ? 10 : 100, progress }),
  concurrency: (progress) =>
    measureConcurrency({
      levels: [1, 2, 8, 32],
      total: quick ? 32 : 96,
      rounds: quick ? 1 : 3,
      progress,
    }),
  memory: (progress) => measureOverhead({ rounds: quick ? 1 : 5, progress }),
  eventLoop: (progress) =>
    measureEventLoop({ rounds: quick ? 1 : 3, perRound: quick ? 20 : 200, burst: 200, progress }),
  vitest: (progress) => suiteRuns(measureVitest, progress, 'typescript'),
  jest: (progress) => suiteRuns(measureJest, progress, 'tsJest'),
  jestProfile: (progress) => measureJestProfile({ suites: ['trivial', 'tsJest'], progress }),
}

// Each suite and size, by name (trivial-24, work-24…), with the runner's TypeScript suite;
// a smoke run measures one small one.
function suiteRuns(measure, progress, typescriptSuite) {
  const runs = [
    ['trivial', 24, 5],
    ['trivial', 200, 3],
    ['work', 24, 3],
    [typescriptSuite, 24, 3],
  ]
  return Object.fromEntries(
    (quick ? [['trivial', 4, 1]] : runs).map(([suite, fileCount, rounds]) => [
      `${suite}-${fileCount}`,
      measure({
        suite,
        fileCount,
        rounds,
        maxWorkers,
        progress: (step) => progress(`${suite}, ${fileCount} files, ${step}`),
      }),
    ]),
  )
}

const previous = readPrevious()
const results = { machine: await describeMachine(), sections: { ...previous.sections } }
if (!hasBwrap)
  console.log('bubblewrap is not installed (apt-get install bubblewrap): comparing without it.')
for (const [name, measure] of Object.entries(sections)) {
  if (only && !only.includes(name)) continue
  const started = performance.now()
  const progress = (step) => process.stdout.write(`\r${name}: ${step}`.padEnd(60))
  progress('starting')
  results.sections[name] = { ...(await measure(progress)), measuredAt: new Date().toISOString() }
  process.stdout.write(
    `${`\r${name}: done in ${((performance.now() - started) / 1000).toFixed(0)} s`.padEnd(60)}\n`,
  )
}

// The figures first: a page that fails to render loses no measurement.
writeFileSync(docs('benchmarks.json'), `${JSON.stringify(results, null, 2)}\n`)
const markdown = renderMarkdown(results)
writeFileSync(docs('benchmarks.md'), markdown.document)
writeFileSync(docs('benchmarks.svg'), renderChart(markdown.targets))
// Laid out as the rest of the docs, so that the linter finds the page as it wrote it.
execFileSync(fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url)), [
  'format',
  '--write',
  docs('benchmarks.md'),
])
console.log(
  `\n${markdown.summary}\nWrote docs/benchmarks.md, docs/benchmarks.svg and docs/benchmarks.json.`,
)

// The last run's figures, to keep the sections this run does not measure.
function readPrevious() {
  try {
    return JSON.parse(readFileSync(docs('benchmarks.json'), 'utf8'))
  } catch {
    return { sections: {} }
  }
}

async function describeMachine() {
  const version = (command, args, pattern) => {
    try {
      const output = execFileSync(command, args, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      return pattern.exec(output)?.[1] ?? output.trim()
    } catch {
      return 'not installed'
    }
  }
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : ''
  const packageVersion = (name) =>
    JSON.parse(
      readFileSync(
        fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url)),
        'utf8',
      ),
    ).version
  const support = await probe()
  return {
    date: new Date().toISOString().slice(0, 10),
    os: /PRETTY_NAME="([^"]+)"/.exec(osRelease)?.[1] ?? os.type(),
    kernel: os.release(),
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB`,
    node: process.version,
    unshare: version('unshare', ['--version'], /(\d+\.\d+(?:\.\d+)?)/),
    bubblewrap: version('bwrap', ['--version'], /(\d+\.\d+(?:\.\d+)?)/),
    vitest: packageVersion('vitest'),
    jest: packageVersion('jest'),
    cgroups: support.cgroups.version === null ? 'none' : `v${support.cgroups.version}`,
    limitsBy: support.cgroups.limits?.memory ?? 'unknown',
    user: process.getuid() === 0 ? 'root' : 'an unprivileged user',
    maxWorkers,
  }
}
