import { InvalidOptionError } from '../errors.js'
import { type Duration, parseDuration } from '../options/duration.js'
import { validateSandboxOptions } from '../options/normalize.js'
import { parseSize, type Size } from '../options/size.js'
import type { EnforceMode, NetworkMode } from '../options/types.js'
import { checkDocblockPolicy } from './docblock-policy.js'

/**
 * Options of a test runner integration (the Vitest pool, the Jest runner): the limits and
 * isolation every test file's sandbox starts with.
 */
export interface TestSandboxOptions {
  /** Memory cap of each test file's sandbox; `false` for none. Default: `'2G'`. */
  memory?: Size | false
  /** Cap on processes and threads per test file. Default: none. */
  pids?: number
  /** CPU cap per test file, in cores, such as `1.5`. Default: none. */
  cpus?: number
  /** Network of each test file: `'loopback'` (default), `'none'` or `'host'`. */
  network?: NetworkMode
  /** Size cap of each test file's private `/tmp`. Default: `'1G'`. */
  tmpSize?: Size
  /** Wall-clock limit per test file; the file fails when it is exceeded. Default: none. */
  timeout?: Duration
  /** `'strict'` refuses the watchdog where no cgroup can enforce `memory` or `pids`. Default: `'best-effort'`. */
  enforce?: EnforceMode
  /** Paths each test file sees read-only, as `run`'s `ro`. Default: none. */
  ro?: string[]
  /** Paths that stay writable under `readOnly` or inside a hidden directory, as `run`'s `rw`. Default: none. */
  rw?: string[]
  /** Paths test files must not see (secrets, credentials), as `run`'s `hide`. Default: none. */
  hide?: string[]
  /** The whole filesystem read-only but `/tmp`, `/dev/shm` and `rw` paths, as `run`'s `readOnly`. Default: `false`. */
  readOnly?: boolean
  /** A seccomp filter in every test file's sandbox, as `run`'s `seccomp`. Default: `false`. */
  seccomp?: boolean
  /**
   * Whether the test runner's own files are read-only in every test file's sandbox: the
   * runner's and Babel's config files, `package.json`, lockfiles, package manager
   * settings, `node_modules`, `.git` and `.husky` of the project and of its workspace
   * root, and files the runner loads on the host (`globalSetup`, what the config imports).
   * `false` lets a test file change code that the runner, the package manager or git later
   * run on the host, outside any sandbox. Default: `true`.
   */
  protectRunner?: boolean
  /**
   * What a test file's `@nsbox` docblock may do: `'any'` (default) may raise limits and
   * open the network; `'tighten-only'` may only lower caps (`memory`, `pids`, `cpus`,
   * `tmpSize`, `timeout`) and narrow the network (`host` → `loopback` → `none`);
   * `'off'` fails a file that has one.
   */
  docblock?: DocblockPolicy
  /**
   * Cap on each message a test file's sandbox sends the runner; over it, the file fails
   * and its sandbox is ended, before the runner holds the message. Default: `'16M'`.
   */
  maxMessageSize?: Size
  /**
   * Cap on the console output the runner keeps for one test file (what `console.log` and
   * friends send it); over it, the file fails. Default: `'8M'`.
   */
  maxConsoleSize?: Size
  /**
   * When sandboxes cannot start on this host: `'error'` (default) fails the run at config
   * load with `ERR_USERNS_BLOCKED` (or `ERR_SETUP_FAILED`), the cause and the fix; `'warn'` runs the files unsandboxed, with one warning.
   */
  onUnsupported?: 'error' | 'warn'
}

/** What a test file's `@nsbox` docblock may do; see {@link TestSandboxOptions.docblock}. */
export type DocblockPolicy = 'any' | 'tighten-only' | 'off'

/** How the runner guards itself from the test files, after validation. */
export interface RunnerBoundary {
  protectRunner: boolean
  docblock: DocblockPolicy
  maxMessageBytes: number
  maxConsoleBytes: number
}

/** The default cap on each message from a test file's sandbox. */
export const DEFAULT_MAX_MESSAGE_SIZE = '16M'
/** The default cap on the console output the runner keeps for one test file. */
export const DEFAULT_MAX_CONSOLE_SIZE = '8M'

/** The default memory cap of a test file: generous for a test worker, fatal for a leak. */
export const DEFAULT_MEMORY = '2G'

/** The options one test file's sandbox starts with, before and after its docblock. */
export type FileSandboxOptions = Omit<
  TestSandboxOptions,
  'memory' | 'onUnsupported' | keyof typeof BOUNDARY_DEFAULTS
> & {
  memory?: Size
}

const BOUNDARY_DEFAULTS = {
  protectRunner: true,
  docblock: 'any',
  maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
  maxConsoleSize: DEFAULT_MAX_CONSOLE_SIZE,
} as const

/** {@link TestSandboxOptions} after validation. */
export interface ResolvedTestSandboxOptions {
  /** What each file's sandbox starts with. */
  sandbox: FileSandboxOptions
  onUnsupported: 'error' | 'warn'
  /** How the runner guards itself from the test files. */
  boundary: RunnerBoundary
}

/** The keys a test file's `@nsbox` docblock may set. */
export const DOCBLOCK_KEYS: readonly string[] = [
  'memory',
  'pids',
  'cpus',
  'network',
  'tmpSize',
  'timeout',
]
const OPTION_KEYS: readonly string[] = [
  ...DOCBLOCK_KEYS,
  'enforce',
  'ro',
  'rw',
  'hide',
  'readOnly',
  'seccomp',
  ...Object.keys(BOUNDARY_DEFAULTS),
  'onUnsupported',
]

/**
 * Validates a test runner integration's options and applies the defaults; throws
 * `ERR_INVALID_OPTION` naming the option.
 *
 * @param options - What the user passed, unchecked.
 * @param owner - How the user passed them, for messages: `sandbox()`, `the Jest runner`.
 * @param ownKeys - Options the integration takes itself (and has taken out), named in the
 *   list of known options all the same.
 */
export function resolveTestSandboxOptions(
  options: unknown,
  owner: string,
  ownKeys: readonly string[] = [],
): ResolvedTestSandboxOptions {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(
      'options',
      `nsbox: ${owner} expects an options object, got ${JSON.stringify(options)}.`,
    )
  }
  const raw = options as Record<string, unknown>
  for (const key of Object.keys(raw)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new InvalidOptionError(
        key,
        `nsbox: unknown option \`${key}\` for ${owner}. Known options: ${[...OPTION_KEYS, ...ownKeys].join(', ')}.`,
      )
    }
  }
  const {
    onUnsupported = 'error',
    memory = DEFAULT_MEMORY,
    protectRunner = BOUNDARY_DEFAULTS.protectRunner,
    docblock = BOUNDARY_DEFAULTS.docblock,
    maxMessageSize = BOUNDARY_DEFAULTS.maxMessageSize,
    maxConsoleSize = BOUNDARY_DEFAULTS.maxConsoleSize,
    ...rest
  } = raw
  const boundary: RunnerBoundary = {
    protectRunner: oneOf('protectRunner', protectRunner, [true, false]),
    docblock: oneOf('docblock', docblock, ['any', 'tighten-only', 'off']),
    maxMessageBytes: parseSize('maxMessageSize', maxMessageSize),
    maxConsoleBytes: parseSize('maxConsoleSize', maxConsoleSize),
  }
  const sandbox = { ...rest, ...(memory === false ? {} : { memory }) } as FileSandboxOptions
  validateSandboxOptions(sandbox)
  return {
    sandbox,
    onUnsupported: oneOf('onUnsupported', onUnsupported, ['error', 'warn']),
    boundary,
  }
}

function oneOf<const Value>(option: string, value: unknown, allowed: readonly Value[]): Value {
  if (allowed.includes(value as Value)) return value as Value
  const choices = allowed.map((choice) =>
    typeof choice === 'string' ? `'${choice}'` : String(choice),
  )
  throw new InvalidOptionError(
    option,
    `nsbox: expected the \`${option}\` option to be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}, got ${JSON.stringify(value)}.`,
  )
}

/**
 * Applies a test file's `@nsbox` docblock pairs (from {@link readDocblockOverrides}) over
 * the options every file starts with; throws `ERR_INVALID_OPTION` naming the file for an
 * unknown key, a bad value, or one that `policy` forbids (see
 * {@link TestSandboxOptions.docblock}).
 *
 * @param policy - What the docblock may do. Default: `'any'`.
 */
export function applyDocblock(
  base: FileSandboxOptions,
  pairs: ReadonlyArray<readonly [string, string]>,
  file: string,
  policy: DocblockPolicy = 'any',
): FileSandboxOptions {
  const options: Record<string, unknown> = { ...base }
  for (const [key, value] of pairs) {
    if (!DOCBLOCK_KEYS.includes(key)) {
      throw new InvalidOptionError(
        key,
        `nsbox: ${file}: unknown key \`${key}\` in the @nsbox docblock. Known keys: ${DOCBLOCK_KEYS.join(', ')}.`,
      )
    }
    if (key === 'memory' && value === 'none') delete options.memory
    else options[key] = key === 'pids' || key === 'cpus' ? toNumber(value) : value
  }
  try {
    validateSandboxOptions(options)
  } catch (error) {
    const option = (error as InvalidOptionError).option ?? 'docblock'
    throw new InvalidOptionError(
      option,
      `nsbox: ${file}: bad @nsbox docblock: ${(error as Error).message.replace(/^nsbox: /, '')}`,
    )
  }
  const keys = pairs.map(([key]) => key)
  checkDocblockPolicy(policy, base, options as FileSandboxOptions, keys, file)
  return options as FileSandboxOptions
}

// Left as the string when it is not a number, so that validation names the value.
function toNumber(value: string): number | string {
  const number = Number(value)
  return value.trim() === '' || Number.isNaN(number) ? value : number
}

/**
 * A test file's wall-clock limit in milliseconds, from its options; `null` for none. For
 * runners that enforce it themselves, such as on a worker that outlives the file.
 */
export function fileTimeoutMs(options: FileSandboxOptions): number | null {
  return options.timeout === undefined ? null : parseDuration('timeout', options.timeout)
}
