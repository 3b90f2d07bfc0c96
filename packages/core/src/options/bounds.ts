import { InvalidOptionError } from '../errors.js'
import { describeValue } from './describe-value.js'

/**
 * Whether a limit's value is zero or negative, in any form it may be written in: `0`,
 * `-1`, `"0M"`, `"-5M"`, `"0s"`. Such a value is not a typo of a valid one, so it gets a
 * message of its own. Pure.
 */
export function isZeroOrNegative(value: unknown): boolean {
  if (typeof value === 'number') return value <= 0
  if (typeof value !== 'string') return false
  return /^\s*-\s*\d/.test(value) || /^\s*0+(\.0+)?\s*[a-z]*\s*$/i.test(value)
}

/** The error for a limit given as zero or a negative value. */
export function mustBePositive(option: string, value: unknown): InvalidOptionError {
  return new InvalidOptionError(
    option,
    `The \`${option}\` option must be positive, got ${describeValue(value)}.`,
  )
}

/** The error for a limit below what any sandbox needs to start, which would only ever fail. */
export function belowMinimum(
  option: string,
  minimum: string,
  why: string,
  value: unknown,
): InvalidOptionError {
  return new InvalidOptionError(
    option,
    `The \`${option}\` option must be at least ${minimum}, ${why}, got ${describeValue(value)}.`,
  )
}
