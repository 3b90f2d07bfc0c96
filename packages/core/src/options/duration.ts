import { InvalidOptionError } from '../errors.js'
import { isZeroOrNegative, mustBePositive } from './bounds.js'
import { describeValue } from './describe-value.js'

/**
 * A duration: a number of milliseconds, or a string with a unit such as `"500ms"`, `"30s"`,
 * `"2m"` or `"1h"`. A string without a unit is refused, because `"10"` could mean either.
 */
export type Duration = number | string

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/i

/** Parses a {@link Duration} into milliseconds, or throws `ERR_INVALID_OPTION` naming `option`. */
export function parseDuration(option: string, value: unknown): number {
  if (isZeroOrNegative(value)) throw mustBePositive(option, value)
  const ms = durationToMs(value)
  if (ms === undefined || ms < 1) {
    const hint =
      typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim())
        ? ` Add a unit: "${value.trim()}s" or "${value.trim()}ms".`
        : ''
    throw new InvalidOptionError(
      option,
      `Expected the \`${option}\` option to be a duration such as "30s", "500ms", "2m" or a number of milliseconds, got ${describeValue(value)}.${hint}`,
    )
  }
  return ms
}

function durationToMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.round(value) : undefined
  if (typeof value !== 'string') return undefined
  const match = DURATION_PATTERN.exec(value.trim())
  if (!match) return undefined
  const [, amount = '', unit = ''] = match
  return Math.round(Number(amount) * (UNIT_MS[unit.toLowerCase()] ?? 1))
}

/** Formats milliseconds for people: `1500` → `"1.5 s"`, `120000` → `"2 min"`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))} s`
  return `${Number((ms / 60_000).toFixed(1))} min`
}
