import { MessageLimitError } from '../errors.js'
import { formatSize } from '../options/size.js'

/**
 * The error a test file fails with when its sandbox sent the runner more than a cap
 * allows: one message over `maxMessageSize`, or console output over `maxConsoleSize`. Pure.
 *
 * @param relativePath - The test file, relative to its project.
 * @param option - The cap's option.
 * @param limitBytes - The cap.
 * @param seenBytes - The message's size, when it is known (`null` when only its start
 *   came); ignored for console output.
 */
export function messageLimitError(
  relativePath: string,
  option: 'maxMessageSize' | 'maxConsoleSize',
  limitBytes: number,
  seenBytes: number | null,
): MessageLimitError {
  const cap = formatSize(limitBytes)
  const what =
    option === 'maxMessageSize'
      ? `sent the test runner a message of ${seenBytes === null ? `more than ${cap}` : formatSize(seenBytes)}, over the cap of ${cap} on each message`
      : `printed over ${cap} of console output, the cap on what the test runner keeps for one file`
  return new MessageLimitError(
    option,
    limitBytes,
    `nsbox: ${relativePath} ${what} (${option}: ${cap}). Raise \`${option}\` in the runner's options if the file needs more.`,
  )
}

/** Counts the console output the runner keeps for one test file against its cap. */
export class ConsoleBudget {
  readonly #limitBytes: number
  #usedBytes = 0

  /** @param limitBytes - The cap, in bytes. */
  constructor(limitBytes: number) {
    this.#limitBytes = limitBytes
  }

  /** Counts `text`; `true` while the total stays within the cap. */
  spend(text: string): boolean {
    this.#usedBytes += Buffer.byteLength(text)
    return this.#usedBytes <= this.#limitBytes
  }

  /** The cap, in bytes. */
  get limitBytes(): number {
    return this.#limitBytes
  }

  /** What was counted so far, in bytes. */
  get usedBytes(): number {
    return this.#usedBytes
  }
}
