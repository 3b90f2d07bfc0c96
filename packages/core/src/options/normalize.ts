import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { InvalidOptionError } from '../errors.js'
import { MIN_CPUS } from '../plan/cgroup-writes.js'
import { belowMinimum, isZeroOrNegative, mustBePositive } from './bounds.js'
import { describeValue } from './describe-value.js'
import { parseDuration } from './duration.js'
import { parseSize } from './size.js'
import { suggestOption } from './suggest.js'
import type {
  FilesystemSpec,
  LimitsSpec,
  RunOptions,
  RunSpec,
  SandboxOptions,
  SandboxSpec,
  SpawnOptions,
  SpawnSpec,
  StdioSlot,
} from './types.js'

const DEFAULT_TMP_SIZE = '1G'
const DEFAULT_MAX_OUTPUT = '16M'

/**
 * The smallest `memory` cap accepted: a sandbox's init and the exec of a small command
 * are charged about 1 MiB; below 4 MiB nothing useful can run.
 */
export const MIN_MEMORY_BYTES = 4 * 1024 ** 2

/** The smallest `pids` cap accepted: the sandbox's init and the command, one task each. */
export const MIN_PIDS = 2

/** What `untrusted: true` sets, unless the caller sets it too. */
export const UNTRUSTED_PRESET = {
  network: 'none',
  readOnly: true,
  seccomp: true,
  clearEnv: true,
  pids: 128,
  memory: '512M',
  timeout: '60s',
  tmpSize: '64M',
  maxOutput: '1M',
} as const

/** The variables `clearEnv` keeps from the environment it starts from. */
export const KEPT_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TERM']

const SANDBOX_KEYS = [
  'cwd',
  'env',
  'extendEnv',
  'timeout',
  'network',
  'uid',
  'tmpSize',
  'memory',
  'pids',
  'cpus',
  'enforce',
  'readOnly',
  'ro',
  'rw',
  'hide',
  'clearEnv',
  'seccomp',
  'untrusted',
] as const
const RUN_ONLY_KEYS = ['input', 'maxOutput'] as const
const SPAWN_ONLY_KEYS = ['stdio', 'serialization'] as const
const RUN_KEYS = [...SANDBOX_KEYS, ...RUN_ONLY_KEYS] as const
const SPAWN_KEYS = [...SANDBOX_KEYS, ...SPAWN_ONLY_KEYS] as const
const ANY_KEYS = [...SANDBOX_KEYS, ...RUN_ONLY_KEYS, ...SPAWN_ONLY_KEYS] as const

/** Validates {@link run}'s arguments into a {@link RunSpec}; throws `ERR_INVALID_OPTION`. */
export function normalizeRunOptions(file: unknown, args: unknown, options: unknown): RunSpec {
  const raw = withPreset(checkOptionsObject(options, RUN_KEYS)) as RunOptions
  if (
    raw.input !== undefined &&
    typeof raw.input !== 'string' &&
    !(raw.input instanceof Uint8Array)
  ) {
    throw invalid('input', 'a string or a Uint8Array', raw.input)
  }
  return {
    ...normalizeSandbox(file, args, raw),
    input: raw.input ?? null,
    maxOutputBytes: parseSize('maxOutput', raw.maxOutput ?? DEFAULT_MAX_OUTPUT),
  }
}

/**
 * Checks sandbox options the way {@link run} and {@link spawn} will, without starting
 * anything: throws `ERR_INVALID_OPTION` naming the option, the value and the accepted
 * forms. Takes every option either of them takes (`input` and `maxOutput` of `run()`,
 * `stdio` and `serialization` of `spawn()` too). For integrations that take options long
 * before they start a sandbox.
 *
 * @example
 * ```ts
 * import { validateSandboxOptions } from '@nsbox/core'
 *
 * validateSandboxOptions({ memory: '512M', network: 'none' }) // fine
 * validateSandboxOptions({ memory: 'lots' })                  // throws ERR_INVALID_OPTION
 * ```
 */
export function validateSandboxOptions(options: unknown): void {
  normalizeAnyOptions(options)
}

/**
 * Validates options of either {@link run} or {@link spawn} (any of their keys) into the
 * spec of the sandbox they describe; throws `ERR_INVALID_OPTION`.
 */
export function normalizeAnyOptions(options: unknown): SandboxSpec {
  const raw = checkOptionsObject(options, ANY_KEYS)
  const without = (keys: readonly string[]) =>
    Object.fromEntries(Object.entries(raw).filter(([key]) => !keys.includes(key)))
  normalizeSpawnOptions('true', [], without(RUN_ONLY_KEYS))
  return normalizeRunOptions('true', [], without(SPAWN_ONLY_KEYS))
}

/** Validates {@link spawn}'s arguments into a {@link SpawnSpec}; throws `ERR_INVALID_OPTION`. */
export function normalizeSpawnOptions(file: unknown, args: unknown, options: unknown): SpawnSpec {
  const raw = withPreset(checkOptionsObject(options, SPAWN_KEYS)) as SpawnOptions
  const { stdio, ipc } = normalizeStdio(raw.stdio)
  const serialization = raw.serialization ?? 'json'
  if (serialization !== 'json' && serialization !== 'advanced') {
    throw invalid('serialization', "one of 'json', 'advanced'", serialization)
  }
  return { ...normalizeSandbox(file, args, raw), stdio, ipc, serialization }
}

function normalizeSandbox(file: unknown, args: unknown, raw: SandboxOptions): SandboxSpec {
  if (typeof file !== 'string' || file === '' || file.includes('\0')) {
    throw new InvalidOptionError(
      'file',
      `Expected the command to be a non-empty string without NUL bytes, got ${describeValue(file)}.`,
    )
  }
  return {
    file,
    args: normalizeArgs(args),
    cwd: normalizeCwd(raw.cwd),
    env: normalizeEnv(raw.env, raw.extendEnv, flag('clearEnv', raw.clearEnv)),
    timeoutMs: raw.timeout === undefined ? null : parseDuration('timeout', raw.timeout),
    network: oneOf('network', raw.network ?? 'loopback', ['loopback', 'none', 'host'] as const),
    uid: oneOf('uid', raw.uid ?? 'self', ['self', 'root'] as const),
    tmpSizeBytes: parseSize('tmpSize', raw.tmpSize ?? DEFAULT_TMP_SIZE),
    limits: normalizeLimits(raw),
    enforce: oneOf('enforce', raw.enforce ?? 'best-effort', ['best-effort', 'strict'] as const),
    filesystem: normalizeFilesystem(raw),
    seccomp: flag('seccomp', raw.seccomp),
  }
}

// `untrusted: true` fills in every option the caller left out with the preset's value.
function withPreset(raw: Record<string, unknown>): Record<string, unknown> {
  if (raw.untrusted === undefined || raw.untrusted === false) return raw
  if (raw.untrusted !== true) throw invalid('untrusted', 'a boolean', raw.untrusted)
  // Only values the caller set win: `network: undefined` must not undo the preset's 'none'.
  const set = Object.entries(raw).filter(([, value]) => value !== undefined)
  return { ...UNTRUSTED_PRESET, ...Object.fromEntries(set) }
}

// Relative paths are the caller's, like `cwd` itself: resolved against process.cwd().
function normalizeFilesystem(raw: SandboxOptions): FilesystemSpec {
  const paths = (option: 'ro' | 'rw' | 'hide'): string[] => {
    const value = raw[option]
    if (value === undefined) return []
    if (!Array.isArray(value)) throw invalid(option, 'an array of paths', value)
    return value.map((entry) => {
      if (typeof entry !== 'string' || entry === '' || entry.includes('\0')) {
        throw invalid(option, 'an array of non-empty paths', value)
      }
      const resolved = path.resolve(entry)
      if (resolved === '/') {
        throw new InvalidOptionError(
          option,
          `The \`${option}\` option cannot name / itself; for a read-only root use \`readOnly: true\`.`,
        )
      }
      return resolved
    })
  }
  return {
    readOnly: flag('readOnly', raw.readOnly),
    ro: paths('ro'),
    rw: paths('rw'),
    hide: paths('hide'),
    hideHome: raw.untrusted === true,
    hideSockets: raw.untrusted === true,
    exactTmpBinds: raw.untrusted === true,
    minimalDev: raw.untrusted === true,
  }
}

function flag(option: string, value: unknown): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw invalid(option, 'a boolean', value)
  return value
}

function normalizeLimits(raw: SandboxOptions): LimitsSpec {
  for (const option of ['pids', 'cpus'] as const) {
    if (isZeroOrNegative(raw[option])) throw mustBePositive(option, raw[option])
  }
  if (raw.pids !== undefined && !Number.isSafeInteger(raw.pids)) {
    throw invalid('pids', 'a positive whole number such as 64', raw.pids)
  }
  if (raw.pids !== undefined && raw.pids < MIN_PIDS) {
    throw belowMinimum('pids', String(MIN_PIDS), "for the sandbox's init and the command", raw.pids)
  }
  if (
    raw.cpus !== undefined &&
    !(typeof raw.cpus === 'number' && raw.cpus >= MIN_CPUS && Number.isFinite(raw.cpus))
  ) {
    throw invalid('cpus', `a number of cores of at least ${MIN_CPUS}, such as 1.5`, raw.cpus)
  }
  return {
    memoryBytes:
      raw.memory === undefined
        ? null
        : parseSize('memory', raw.memory, {
            bytes: MIN_MEMORY_BYTES,
            why: 'what a sandbox needs to start',
          }),
    pids: raw.pids ?? null,
    cpus: raw.cpus ?? null,
  }
}

function checkOptionsObject(options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(
      'options',
      `Expected the options to be an object, got ${describeValue(options)}.`,
    )
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const suggestion = suggestOption(key, known)
      throw new InvalidOptionError(
        key,
        `Unknown option \`${key}\`.${suggestion ? ` Did you mean \`${suggestion}\`?` : ''} Known options: ${known.join(', ')}.`,
      )
    }
  }
  return options as Record<string, unknown>
}

function normalizeArgs(args: unknown): string[] {
  if (args === undefined) return []
  if (!Array.isArray(args)) throw invalid('args', 'an array of strings', args)
  for (const arg of args) {
    if (typeof arg !== 'string' || arg.includes('\0')) {
      throw new InvalidOptionError(
        'args',
        `Expected every argument to be a string without NUL bytes, got ${describeValue(arg)}.`,
      )
    }
  }
  return [...args]
}

function normalizeCwd(cwd: unknown): string {
  if (cwd === undefined) return process.cwd()
  const asPath = cwd instanceof URL ? fileURLToPath(cwd) : cwd
  if (typeof asPath !== 'string' || asPath === '' || asPath.includes('\0')) {
    throw invalid('cwd', 'a directory path or a file: URL', cwd)
  }
  return path.resolve(asPath)
}

function normalizeEnv(env: unknown, extendEnv: unknown, clearEnv: boolean): Record<string, string> {
  if (extendEnv !== undefined && typeof extendEnv !== 'boolean')
    throw invalid('extendEnv', 'a boolean', extendEnv)
  if (env !== undefined && (typeof env !== 'object' || env === null || Array.isArray(env))) {
    throw invalid('env', 'an object of strings such as { NODE_ENV: "test" }', env)
  }
  const base = extendEnv === false ? {} : process.env
  const kept = clearEnv
    ? Object.fromEntries(
        KEPT_ENV.filter((key) => base[key] !== undefined).map((key) => [key, base[key]]),
      )
    : base
  const merged: Record<string, string | undefined> = {
    ...kept,
    ...(env as Record<string, unknown> as Record<string, string | undefined>),
  }
  const result: Record<string, string> = {}
  for (const [key, value] of Object.entries(merged)) {
    if (value === undefined) continue
    if (key === '' || key.includes('=') || key.includes('\0')) {
      throw new InvalidOptionError(
        'env',
        `Expected environment variable names without "=" or NUL bytes, got ${describeValue(key)}.`,
      )
    }
    if (typeof value !== 'string' || value.includes('\0')) {
      throw new InvalidOptionError(
        'env',
        `Expected the \`env\` value of ${key} to be a string without NUL bytes, got ${describeValue(value)}.`,
      )
    }
    result[key] = value
  }
  return result
}

function normalizeStdio(stdio: unknown): {
  stdio: [StdioSlot, StdioSlot, StdioSlot]
  ipc: boolean
} {
  const slots = ['pipe', 'inherit', 'ignore'] as const
  if (stdio === undefined) return { stdio: ['pipe', 'pipe', 'pipe'], ipc: false }
  if (typeof stdio === 'string') {
    const slot = oneOf('stdio', stdio, slots)
    return { stdio: [slot, slot, slot], ipc: false }
  }
  const shape =
    "'pipe', 'inherit', 'ignore', or an array of three of them optionally followed by 'ipc'"
  if (!Array.isArray(stdio) || stdio.length < 3 || stdio.length > 4)
    throw invalid('stdio', shape, stdio)
  const [stdin, stdout, stderr, extra] = stdio as unknown[]
  if (stdio.length === 4 && extra !== 'ipc') throw invalid('stdio', shape, stdio)
  const check = (slot: unknown): StdioSlot => {
    if (!slots.includes(slot as StdioSlot)) throw invalid('stdio', shape, stdio)
    return slot as StdioSlot
  }
  return { stdio: [check(stdin), check(stdout), check(stderr)], ipc: extra === 'ipc' }
}

function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw invalid(option, `one of ${allowed.map((item) => `'${item}'`).join(', ')}`, value)
  }
  return value as T
}

function invalid(option: string, expected: string, value: unknown): InvalidOptionError {
  return new InvalidOptionError(
    option,
    `Expected the \`${option}\` option to be ${expected}, got ${describeValue(value)}.`,
  )
}
