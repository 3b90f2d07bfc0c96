import { constants } from 'node:os'
import { describeKill } from '../launch/kill-reason.js'
import type { SandboxResult } from '../launch/result.js'
import { run, spawn } from '../launch/run.js'
import { parseDuration } from '../options/duration.js'
import { parseSize } from '../options/size.js'
import { RUN_HELP } from './help.js'
import { parseRunArgs } from './parse-run-args.js'

/** Carries out `nsbox run`; resolves with the process exit code. */
export async function runCommand(argv: readonly string[]): Promise<number> {
  const commandLine = parseRunArgs(argv)
  if (commandLine.help) {
    process.stdout.write(RUN_HELP)
    return 0
  }
  const { file, args, options } = commandLine
  if (commandLine.json) {
    const result = await run(file, args, options)
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    return exitCodeOf(result)
  }
  const sandbox = spawn(file, args, { ...options, stdio: 'inherit' })
  const forward = (signal: NodeJS.Signals) => sandbox.kill(signal)
  const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const signal of forwarded) process.on(signal, forward)
  try {
    const result = await sandbox.result
    const reason = describeKill(result, {
      timeoutMs: options.timeout === undefined ? null : parseDuration('timeout', options.timeout),
      memoryBytes: options.memory === undefined ? null : parseSize('memory', options.memory),
      pids: options.pids ?? null,
    })
    if (reason) process.stderr.write(`nsbox: killed: ${reason}\n`)
    return exitCodeOf(result)
  } finally {
    for (const signal of forwarded) process.off(signal, forward)
  }
}

/** The exit code `nsbox run` passes on: the command's, or 128+N for signal N. */
export function exitCodeOf(result: SandboxResult): number {
  if (result.exitCode !== null) return result.exitCode
  return 128 + (result.signal ? (constants.signals[result.signal] ?? 9) : 9)
}
