// What the benchmarks print: medians of interleaved rounds, as a Markdown table.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }))

// CPU time of this process's children that have ended and been waited for, with theirs
// (every process a run started, sandboxes included), in ms.
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // cutime and cstime, fields 16 and 17 of proc(5); the list starts at field 3.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS_PER_SECOND
}

/** A number with `digits` decimals, or n/a. */
export const fixed = (value, digits = 2) =>
  value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(digits)

/** A Markdown table. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return `${[line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')}\n`
}

/** The median of some samples. */
export function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
}

/** Prints one row per contender: its median wall time and every round's. */
export function printRounds(label, samples) {
  console.log(`\n\n| ${label} | median wall ms | rounds (ms) |\n|---|---|---|`)
  for (const [name, values] of Object.entries(samples)) {
    console.log(
      `| ${name} | ${median(values).toFixed(0)} | ${values.map((v) => v.toFixed(0)).join(' ')} |`,
    )
  }
}

/** Prints a contender's ratio to the baseline against the target the product commits to. */
export function printRatio(name, samples, baseline, target) {
  const ratio = median(samples[name]) / median(samples[baseline])
  console.log(
    `${name} / ${baseline} = ${ratio.toFixed(2)} (target ≤ ${target.toFixed(2)}): ${ratio <= target ? 'PASS' : 'FAIL'}`,
  )
}

/** Prints the median and largest peak memory of the sandboxes a run reported. */
export function printPeaks(what, peaks) {
  if (peaks.length === 0) return
  const mib = (bytes) => (bytes / 1024 ** 2).toFixed(1)
  console.log(
    `peak memory per ${what}: median ${mib(median(peaks))} MiB, max ${mib(Math.max(...peaks))} MiB (${peaks.length})`,
  )
}

/** The peaks `NSBOX_DEBUG` output reports, in bytes. */
export function peaksIn(debugOutput) {
  return [...debugOutput.matchAll(/memoryPeak (\d+) bytes/g)].map((match) => Number(match[1]))
}

/**
 * Runs `node ARGS…` in `root` with nsbox's debug output on, and returns its wall time,
 * the CPU time of all it started, and its stderr. When it fails, prints why, removes
 * `root` and ends the benchmark.
 */
export function timeNodeRun(name, args, root) {
  const cpuBefore = childrenCpuMs()
  const started = performance.now()
  const child = spawnSync(process.execPath, args, {
    cwd: root,
    env: { ...process.env, NSBOX_DEBUG: '1', NO_COLOR: '1' },
    encoding: 'utf8',
  })
  const ms = performance.now() - started
  if (child.status !== 0) {
    console.error(`${name} failed:\n${child.stdout}\n${child.stderr}`)
    rmSync(root, { recursive: true, force: true })
    process.exit(1)
  }
  return { ms, cpuMs: childrenCpuMs() - cpuBefore, output: child.stderr }
}

/**
 * Runs every contender once per round, in turn, so that the machine's drift hits them
 * alike; returns each one's wall times, CPU times where measured, and the sandbox peaks of
 * the one named `peaksOf`.
 */
export function interleave(names, rounds, runOnce, peaksOf, progress = () => {}) {
  const samples = Object.fromEntries(names.map((name) => [name, []]))
  const cpu = Object.fromEntries(names.map((name) => [name, []]))
  const peaks = []
  for (let round = 1; round <= rounds; round++) {
    for (const name of names) {
      const result = runOnce(name)
      samples[name].push(result.ms)
      if (result.cpuMs !== undefined) cpu[name].push(result.cpuMs)
      if (name === peaksOf) peaks.push(...peaksIn(result.output))
    }
    progress(`round ${round}/${rounds}`)
  }
  return { samples, cpu, peaks }
}

/**
 * Writes a project of `fileCount` test files of `suite` (and the other files it needs)
 * into a new directory under `$BENCH_DIR` or the system's temporary one; returns its root.
 */
export function writeSuiteProject(runner, suite, fileCount, packageJson) {
  const root = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), `nsbox-bench-${runner}-`))
  mkdirSync(path.join(root, 'tests'))
  mkdirSync(path.join(root, 'node_modules/@nsbox'), { recursive: true })
  writeFileSync(path.join(root, 'package.json'), packageJson)
  for (let i = 1; i <= fileCount; i++) {
    writeFileSync(path.join(root, `tests/file-${i}.test.${suite.extension}`), suite.source(i))
  }
  for (const [file, contents] of Object.entries(suite.files ?? {})) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    writeFileSync(path.join(root, file), contents)
  }
  return root
}
