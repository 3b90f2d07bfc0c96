import { fileURLToPath } from 'node:url'
import { findExecutable } from './tools.js'

/** Who would paste a fix, and whether `sudo` is there to raise it to root. */
export interface FixContext {
  isRoot: boolean
  hasSudo: boolean
}

const SHELL_SAFE = /^[\w@%+=:,./-]+$/

/** Quotes one word for a POSIX shell, only when it needs it. Pure. */
export function shellQuote(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

/**
 * A command line that runs `argv` as root when pasted into this user's shell: as it is for
 * root, through `sudo` where it is installed, else through `su` (which asks for root's
 * password). `placeholder` (such as `<command>`) is appended unquoted, for the user to
 * replace. Pure.
 */
export function asRootCommand(
  argv: readonly string[],
  context: FixContext,
  placeholder?: string,
): string {
  const line = [...argv.map(shellQuote), ...(placeholder ? [placeholder] : [])].join(' ')
  if (context.isRoot) return line
  if (context.hasSudo) return `sudo ${line}`
  return `su root -c ${shellQuote(line)}`
}

/**
 * The `nsbox` CLI as absolute paths (this Node.js binary and this package's CLI), so that
 * a printed fix runs under `sudo`, which resets `PATH`, and outside the project whose
 * `node_modules/.bin` holds `nsbox`.
 */
export function nsboxArgv(args: readonly string[]): string[] {
  return [process.execPath, fileURLToPath(new URL('../cli/main.js', import.meta.url)), ...args]
}

/** This process's {@link FixContext}. */
export function currentFixContext(): FixContext {
  return { isRoot: process.getuid?.() === 0, hasSudo: findExecutable('sudo') !== undefined }
}
