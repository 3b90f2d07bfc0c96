import { constants } from 'node:os'
import type { SandboxResult } from '../launch/result.js'
import { run, spawn } from '../launch/run.js'
import { formatDuration, parseDuration } from '../options/duration.js'
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
    const reason = killReason(result, options.timeout)
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

function killReason(
  result: SandboxResult,
  timeout: string | number | undefined,
): string | undefined {
  if (result.killedBy === 'timeout' && timeout !== undefined) {
    return `timeout ${formatDuration(parseDuration('timeout', timeout))} exceeded`
  }
  return result.killedBy ?? undefined
}
