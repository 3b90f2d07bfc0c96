import { InvalidOptionError } from '../errors.js'
import { belowMinimum, isZeroOrNegative, mustBePositive } from './bounds.js'
import { describeValue } from './describe-value.js'

/**
 * A size in bytes: a number, or a string with a binary unit such as `"512M"`, `"1.5G"`,
 * `"64K"` or `"1T"` (K, M, G and T are powers of 1024; `KiB`/`MB`-style suffixes too).
 */
export type Size = number | string

const UNIT_EXPONENT: Record<string, number> = { '': 0, b: 0, k: 1, m: 2, g: 3, t: 4 }
const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i

/**
 * Parses a {@link Size} into bytes, or throws `ERR_INVALID_OPTION` naming `option`: for
 * zero or a negative size, for one below `minimum` (saying why it is the minimum), or
 * for anything that is no size.
 */
export function parseSize(
  option: string,
  value: unknown,
  minimum?: { bytes: number; why: string },
): number {
  if (isZeroOrNegative(value)) throw mustBePositive(option, value)
  const bytes = sizeToBytes(value)
  if (bytes !== undefined && minimum && bytes < minimum.bytes) {
    throw belowMinimum(option, formatSize(minimum.bytes), minimum.why, value)
  }
  if (bytes === undefined || bytes < 1) {
    throw new InvalidOptionError(
      option,
      `Expected the \`${option}\` option to be a size such as "512M", "1.5G" or a number of bytes, got ${describeValue(value)}.`,
    )
  }
  return bytes
}

function sizeToBytes(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined
  if (typeof value !== 'string') return undefined
  const match = SIZE_PATTERN.exec(value.trim())
  if (!match) return undefined
  const [, amount = '', unit = ''] = match
  const exponent = UNIT_EXPONENT[unit.toLowerCase()] ?? 0
  const bytes = Math.floor(Number(amount) * 1024 ** exponent)
  return Number.isSafeInteger(bytes) ? bytes : undefined
}

/** Formats bytes for people: `268435456` → `"256 MiB"`, `1610612736` → `"1.5 GiB"`. */
export function formatSize(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let amount = bytes
  let unit = 0
  while (amount >= 1024 && unit < units.length - 1) {
    amount /= 1024
    unit++
  }
  const rounded = Number.isInteger(amount) ? String(amount) : amount.toFixed(1)
  return `${rounded} ${units[unit]}`
}
