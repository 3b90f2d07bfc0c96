// The test-runner sections of docs/benchmarks.md: Vitest's and Jest's suites against the
// runners' own, and where a Jest test file's process spends its CPU.
import { JEST, JEST_SUITES } from './jest-suites.mjs'
import { fixed, median, table } from './support.mjs'
import { VITEST, VITEST_SUITES } from './vitest-suites.mjs'

// `isolate: 'worker'` shares a process between files; it is held to Jest's own speed.
const WORKER_TARGET = 1.15

const RUNNERS = {
  vitest: {
    name: 'Vitest',
    command: 'vitest run',
    suites: VITEST_SUITES,
    contenders: [VITEST.nsbox],
    baseline: VITEST.baseline,
    targetOf: (suite) => suite.target,
    rounds: '',
  },
  jest: {
    name: 'Jest',
    command: 'jest --ci',
    suites: JEST_SUITES,
    contenders: [JEST.nsbox, JEST.nsboxWorker],
    baseline: JEST.baseline,
    targetOf: (suite, name) => (name === JEST.nsbox ? suite.target : WORKER_TARGET),
    rounds: ' after one unmeasured run of each (so that all find Jest’s cache filled)',
  },
}

/** The Markdown parts of the Vitest and Jest sections; adds each ratio to `target`. */
export function renderTestRunners(sections, machine, target) {
  const parts = []
  for (const [key, runner] of Object.entries(RUNNERS)) {
    const runs = Object.values(sections[key] ?? {}).filter((run) => run?.suite in runner.suites)
    if (runs.length > 0) parts.push(...renderSuites(runner, runs, machine, target))
  }
  if (sections.jestProfile) parts.push(...renderProfile(sections.jestProfile))
  return parts
}

function renderSuites(runner, runs, machine, target) {
  const { name: runnerName, suites, contenders, baseline } = runner
  const rows = []
  for (const { suite, fileCount, samples, cpu } of runs) {
    const { title } = suites[suite]
    const wall = (name) => median(samples[name])
    for (const name of [...contenders, baseline]) {
      const ratio = wall(name) / wall(baseline)
      const cpuPerFile = cpu?.[name]?.length ? median(cpu[name]) / fileCount / 1000 : undefined
      rows.push([
        `${fileCount} ${title}`,
        name,
        fixed(wall(name), 0),
        name === baseline ? '1.00 ×' : `${fixed(ratio)} ×`,
        fixed(cpuPerFile, 3),
      ])
      if (name === baseline) continue
      const limit = runner.targetOf(suites[suite], name)
      target(`${runnerName}, ${fileCount} ${title}: ${name} / ${baseline}`, ratio, limit)
    }
  }
  const trivial = (count) => runs.find((run) => run.suite === 'trivial' && run.fileCount === count)
  const [small, large] = [trivial(24), trivial(200)]
  if (small && large) {
    for (const name of contenders) {
      const perFile = (run) => median(run.samples[name]) / run.fileCount
      target(
        `${runnerName}: cost per file, 200 against 24 trivial files (${name})`,
        perFile(large) / perFile(small),
        1.1,
      )
    }
  }
  const peaks = runs.flatMap((run) => run.peaks)
  return [
    `## ${runnerName}: suites\n`,
    `Wall time of \`${runner.command}\` with \`--maxWorkers=${machine.maxWorkers}\`, median of interleaved rounds${runner.rounds}, and the CPU time (user and system) of all that a run started, per test file.\n`,
    table(['suite', 'runner', 'median wall ms', `vs ${baseline}`, 'CPU s per file'], rows),
    peaks.length > 0
      ? `Peak memory charged to each sandbox’s cgroup: median ${fixed(median(peaks) / 1024 ** 2, 1)} MiB, max ${fixed(Math.max(...peaks) / 1024 ** 2, 1)} MiB (${peaks.length} sandboxes).\n`
      : '',
  ]
}

function renderProfile(profile) {
  const suites = Object.keys(profile).filter((suite) => suite in JEST_SUITES)
  const activities = Object.keys(profile[suites[0]].activities)
  const column = (suite) => JEST_SUITES[suite].title.replace(/^files /, '')
  return [
    '## Jest: where a test file’s process spends its CPU\n',
    'One file of each suite on the nsbox runner, its process profiled by V8 (`node --cpu-prof`, which Jest’s processes inherit) with Jest’s caches filled, in CPU ms by what each sample was doing. Node.js’s own start, before the profiler runs, is not included.\n',
    table(
      ['activity', ...suites.map(column)],
      [
        ...activities.map((activity) => [
          activity,
          ...suites.map((suite) => fixed(profile[suite].activities[activity], 0)),
        ]),
        ['**total**', ...suites.map((suite) => `**${fixed(profile[suite].cpuMs, 0)}**`)],
      ],
    ),
  ]
}
