#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { type ExecFailedError, isSandboxError, type SandboxError } from '../errors.js'
import { isDebugEnabled } from '../launch/debug.js'
import { disableSpares } from '../launch/spares.js'
import { delegateCommand } from './delegate-command.js'
import { doctorCommand } from './doctor.js'
import { MAIN_HELP } from './help.js'
import { runCommand } from './run-command.js'

/** Exit code for errors of nsbox itself, as `env`, `timeout` and container runtimes use. */
const NSBOX_ERROR_EXIT = 125

async function main(argv: readonly string[]): Promise<number> {
  const [subcommand, ...rest] = argv
  switch (subcommand) {
    case 'run':
      return runCommand(rest)
    case 'doctor':
      return doctorCommand(rest)
    case 'delegate':
      return delegateCommand(rest)
    case '--version':
    case '-v':
      process.stdout.write(`${packageVersion()}\n`)
      return 0
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(MAIN_HELP)
      return 0
    default:
      process.stderr.write(
        `nsbox: unknown command "${subcommand}". Run \`nsbox --help\` for the commands.\n`,
      )
      return NSBOX_ERROR_EXIT
  }
}

function packageVersion(): string {
  const manifest = JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { version: string }
  return manifest.version
}

// Every command starts one sandbox at most, and the process ends after it.
disableSpares()
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    if (!isSandboxError(error)) {
      // Every failure nsbox knows of is a SandboxError: anything else is a bug to report.
      const detail = isDebugEnabled() ? (error as Error).stack : (error as Error).message
      process.stderr.write(
        `nsbox: unexpected error: ${detail}. This is a bug in nsbox: please report it, with the output of NSBOX_DEBUG=1.\n`,
      )
      process.exitCode = NSBOX_ERROR_EXIT
      return
    }
    process.stderr.write(`${error.message}\n`)
    process.exitCode = error.code === 'ERR_EXEC_FAILED' ? execFailureExit(error) : NSBOX_ERROR_EXIT
  },
)

// As a shell does: 127 when the command is not there, 126 when it is but cannot run.
function execFailureExit(error: SandboxError): number {
  return (error as ExecFailedError).errno === 'ENOENT' ? 127 : 126
}
