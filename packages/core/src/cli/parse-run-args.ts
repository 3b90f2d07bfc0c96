import { InvalidOptionError } from '../errors.js'
import type { RunOptions } from '../options/types.js'
import { type FlagOptions, parseCommandFlags } from './flags.js'

/** What `nsbox run` was asked to do. */
export interface RunCommandLine {
  help: boolean
  json: boolean
  file: string
  args: string[]
  options: RunOptions
}

/** Parses `nsbox run`'s arguments (everything after `run`). Pure; throws `ERR_INVALID_OPTION`. */
export function parseRunArgs(argv: readonly string[]): RunCommandLine {
  const separator = argv.indexOf('--')
  const flags = separator === -1 ? argv : argv.slice(0, separator)
  const command = separator === -1 ? [] : argv.slice(separator + 1)
  const { positionals, values: parsed } = parseCommandFlags('run', flags, RUN_FLAGS, {
    allowPositionals: true,
  })
  const values = parsed as RunFlagValues
  const [file, ...args] = [...positionals, ...command]
  if (values.help) return { help: true, json: false, file: '', args: [], options: {} }
  if (!file) {
    throw new InvalidOptionError(
      'argv',
      'nsbox run: no command given. Usage: nsbox run [options] -- COMMAND [ARG...]',
    )
  }
  const options: RunOptions = {}
  if (values.network !== undefined) options.network = values.network as RunOptions['network']
  if (values.timeout !== undefined) options.timeout = values.timeout
  if (values.uid !== undefined) options.uid = values.uid as RunOptions['uid']
  if (values['tmp-size'] !== undefined) options.tmpSize = values['tmp-size']
  if (values.cwd !== undefined) options.cwd = values.cwd
  if (values.memory !== undefined) options.memory = values.memory
  if (values.pids !== undefined) options.pids = toNumber('pids', values.pids)
  if (values.cpus !== undefined) options.cpus = toNumber('cpus', values.cpus)
  if (values.enforce !== undefined) options.enforce = values.enforce as RunOptions['enforce']
  if (values.ro !== undefined) options.ro = values.ro
  if (values.rw !== undefined) options.rw = values.rw
  if (values.hide !== undefined) options.hide = values.hide
  if (values['read-only']) options.readOnly = true
  if (values['clear-env']) options.clearEnv = true
  if (values.seccomp && values['no-seccomp']) {
    throw new InvalidOptionError(
      'seccomp',
      'nsbox run: --seccomp and --no-seccomp contradict each other; pass one.',
    )
  }
  if (values.seccomp) options.seccomp = true
  if (values['no-seccomp']) options.seccomp = false
  if (values.untrusted) options.untrusted = true
  if (values.env !== undefined) options.env = parseEnvFlags(values.env)
  return { help: false, json: values.json ?? false, file, args, options }
}

const RUN_FLAGS = {
  network: { type: 'string' },
  timeout: { type: 'string' },
  uid: { type: 'string' },
  'tmp-size': { type: 'string' },
  cwd: { type: 'string' },
  memory: { type: 'string' },
  pids: { type: 'string' },
  cpus: { type: 'string' },
  enforce: { type: 'string' },
  ro: { type: 'string', multiple: true },
  rw: { type: 'string', multiple: true },
  hide: { type: 'string', multiple: true },
  'read-only': { type: 'boolean' },
  'clear-env': { type: 'boolean' },
  seccomp: { type: 'boolean' },
  'no-seccomp': { type: 'boolean' },
  env: { type: 'string', multiple: true },
  untrusted: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies FlagOptions

type RunFlagValues = {
  -readonly [Name in keyof typeof RUN_FLAGS]?: (typeof RUN_FLAGS)[Name] extends {
    multiple: true
  }
    ? string[]
    : (typeof RUN_FLAGS)[Name]['type'] extends 'boolean'
      ? boolean
      : string
}

// Left as given when not a number, so that option validation names the value.
function toNumber(option: string, value: string): number {
  const number = Number(value)
  if (value.trim() === '' || Number.isNaN(number)) {
    throw new InvalidOptionError(option, `Expected --${option} to be a number, got "${value}".`)
  }
  return number
}

// --env KEY=VALUE, repeatable; a later KEY wins.
function parseEnvFlags(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const entry of entries) {
    const separator = entry.indexOf('=')
    if (separator <= 0) {
      throw new InvalidOptionError('env', `Expected --env KEY=VALUE, got "${entry}".`)
    }
    env[entry.slice(0, separator)] = entry.slice(separator + 1)
  }
  return env
}
