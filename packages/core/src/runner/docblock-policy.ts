import { InvalidOptionError } from '../errors.js'
import { parseDuration } from '../options/duration.js'
import { parseSize } from '../options/size.js'
import type { NetworkMode } from '../options/types.js'
import type { DocblockPolicy, FileSandboxOptions } from './options.js'

// From the most open network to the most closed.
const NETWORK_OPENNESS: Record<NetworkMode, number> = { host: 2, loopback: 1, none: 0 }
const DEFAULT_TMP_SIZE = '1G'

/**
 * Checks a test file's options after its docblock (`file`) against the options every
 * file starts with (`base`) under `policy`: under `'tighten-only'`, throws
 * `ERR_INVALID_OPTION` naming the first key the docblock loosens; under `'off'`, throws
 * for any docblock at all. Both options are valid already. Pure.
 */
export function checkDocblockPolicy(
  policy: DocblockPolicy,
  base: FileSandboxOptions,
  file: FileSandboxOptions,
  keys: readonly string[],
  relativePath: string,
): void {
  if (policy === 'any' || keys.length === 0) return
  if (policy === 'off') {
    throw new InvalidOptionError(
      'docblock',
      `nsbox: ${relativePath}: has an @nsbox docblock, and this project turns them off (docblock: 'off'). Remove it, or set the option in the runner's config.`,
    )
  }
  for (const key of new Set(keys)) {
    const loosened = loosening(key, base, file)
    if (!loosened) continue
    throw new InvalidOptionError(
      key,
      `nsbox: ${relativePath}: the @nsbox docblock ${loosened}, and this project lets docblocks only tighten (docblock: 'tighten-only'). Remove it, or change the runner's options.`,
    )
  }
}

// How the docblock loosens `key`, in words; `null` when it does not.
function loosening(key: string, base: FileSandboxOptions, file: FileSandboxOptions): string | null {
  switch (key) {
    case 'network': {
      const from = base.network ?? 'loopback'
      const to = file.network ?? 'loopback'
      return NETWORK_OPENNESS[to] > NETWORK_OPENNESS[from]
        ? `opens the network from '${from}' to '${to}'`
        : null
    }
    case 'memory':
    case 'tmpSize':
      return raises(
        key,
        base[key] ?? (key === 'tmpSize' ? DEFAULT_TMP_SIZE : undefined),
        file[key],
        (value) => parseSize(key, value),
      )
    case 'timeout':
      return raises(key, base.timeout, file.timeout, (value) => parseDuration(key, value))
    case 'pids':
    case 'cpus':
      return raises(key, base[key], file[key], Number)
    default:
      return null
  }
}

function raises<Value>(
  key: string,
  from: Value | undefined,
  to: Value | undefined,
  amount: (value: Value) => number,
): string | null {
  if (from === undefined) return null // no cap to start with: any cap tightens
  if (to === undefined) return `lifts the \`${key}\` cap of ${String(from)}`
  return amount(to) > amount(from)
    ? `raises \`${key}\` from ${String(from)} to ${String(to)}`
    : null
}
