// What the benchmarks print: medians of interleaved rounds, as a Markdown table.
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'

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
 * Runs `node ARGS…` in `root` with nsbox's debug output on, and returns its wall time and
 * stderr. When it fails, prints why, removes `root` and ends the benchmark.
 */
export function timeNodeRun(name, args, root) {
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
  return { ms, output: child.stderr }
}

/**
 * Runs every contender once per round, in turn, so that the machine's drift hits them
 * alike; returns each one's wall times and the sandbox peaks of the one named `peaksOf`.
 */
export function interleave(names, rounds, runOnce, peaksOf, progress = () => {}) {
  const samples = Object.fromEntries(names.map((name) => [name, []]))
  const peaks = []
  for (let round = 1; round <= rounds; round++) {
    for (const name of names) {
      const result = runOnce(name)
      samples[name].push(result.ms)
      if (name === peaksOf) peaks.push(...peaksIn(result.output))
    }
    progress(`round ${round}/${rounds}`)
  }
  return { samples, peaks }
}
