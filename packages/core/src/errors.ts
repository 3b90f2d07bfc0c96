/**
 * Every error nsbox raises is a {@link SandboxError} with a stable `code`.
 * Messages have two parts: what happened, then what to do about it.
 */

const brand = Symbol.for('nsbox.SandboxError')

/** The stable codes a {@link SandboxError} can carry. */
export type SandboxErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_MISSING_TOOL'
  | 'ERR_USERNS_BLOCKED'
  | 'ERR_UNSUPPORTED_PLATFORM'
  | 'ERR_UNSUPPORTED_VERSION'
  | 'ERR_LIMIT_UNAVAILABLE'
  | 'ERR_SETUP_FAILED'
  | 'ERR_EXEC_FAILED'
  | 'ERR_HOST_ACCESS'
  | 'ERR_MESSAGE_LIMIT'
  | 'ERR_RESOURCE_EXHAUSTED'

/**
 * Base class of every error nsbox raises.
 *
 * Test runners load modules in separate VM contexts, where `instanceof` can fail;
 * use {@link isSandboxError} to recognise one.
 *
 * @example
 * ```ts
 * try {
 *   await run('node', ['app.js'], { timeout: 'soon' })
 * } catch (error) {
 *   if (isSandboxError(error)) console.error(error.code, error.message)
 * }
 * ```
 */
export class SandboxError extends Error {
  /** Stable machine-readable code, such as `ERR_INVALID_OPTION`. */
  readonly code: SandboxErrorCode
  /** The command line the sandbox was asked to run, when one was given. */
  command: string | undefined
  readonly [brand] = true

  constructor(code: SandboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message.startsWith('nsbox') ? message : `nsbox: ${message}`, options)
    this.name = new.target.name
    this.code = code
    this.command = undefined
  }
}

/** An option has a wrong type, an unknown value, or conflicts with another option. */
export class InvalidOptionError extends SandboxError {
  /** The option's name, such as `timeout`. */
  readonly option: string
  constructor(option: string, message: string) {
    super('ERR_INVALID_OPTION', message)
    this.option = option
  }
}

/** A program nsbox needs (`unshare`, `perl`) is not installed. */
export class MissingToolError extends SandboxError {
  /** The missing program's name. */
  readonly tool: string
  constructor(tool: string, message: string) {
    super('ERR_MISSING_TOOL', message)
    this.tool = tool
  }
}

/** What was found to block unprivileged user namespaces. */
export type UsernsBlocker =
  | 'apparmor'
  | 'unprivileged_userns_clone'
  | 'max_user_namespaces'
  | 'container'
  | 'unknown'

/** The kernel or a security policy refuses unprivileged user namespaces. */
export class UsernsBlockedError extends SandboxError {
  /** What blocks them: see {@link UsernsBlocker}. */
  readonly blockedBy: UsernsBlocker
  /** The command (or setting) that lifts the block. */
  readonly fix: string
  constructor(blockedBy: UsernsBlocker, fix: string, message: string) {
    super('ERR_USERNS_BLOCKED', message)
    this.blockedBy = blockedBy
    this.fix = fix
  }
}

/** nsbox cannot run on this operating system or CPU architecture. */
export class UnsupportedPlatformError extends SandboxError {
  constructor(message: string) {
    super('ERR_UNSUPPORTED_PLATFORM', message)
  }
}

/** A test runner whose version an nsbox integration does not support loaded it. */
export class UnsupportedVersionError extends SandboxError {
  /** The runner, such as `vitest`. */
  readonly runner: string
  /** The version found. */
  readonly found: string
  /** The versions supported, such as `4.0.10 and newer 4.x, 5.x`. */
  readonly supported: string
  constructor(runner: string, found: string, supported: string, message: string) {
    super('ERR_UNSUPPORTED_VERSION', message)
    this.runner = runner
    this.found = found
    this.supported = supported
  }
}

/** A limit was asked for that this host (or this version) cannot enforce. */
export class LimitUnavailableError extends SandboxError {
  /** The limit's option name, such as `memory`. */
  readonly option: string
  constructor(option: string, message: string) {
    super('ERR_LIMIT_UNAVAILABLE', message)
    this.option = option
  }
}

/** One step of building the sandbox failed (a mount, the loopback device, the uid map…). */
export class SetupFailedError extends SandboxError {
  /** The step that failed, such as `tmpfs /tmp` or `loopback`. */
  readonly step: string
  constructor(step: string, message: string, options?: { cause?: unknown }) {
    super('ERR_SETUP_FAILED', message, options)
    this.step = step
  }
}

/** The sandbox was built but the command could not be executed inside it. */
export class ExecFailedError extends SandboxError {
  /** The `errno` name the kernel gave, such as `ENOENT`. */
  readonly errno: string
  constructor(errno: string, message: string) {
    super('ERR_EXEC_FAILED', message)
    this.errno = errno
  }
}

/** What ran out when a sandbox could not start: see {@link ResourceExhaustedError}. */
export type ExhaustedResource = 'file-descriptors' | 'processes' | 'memory'

/**
 * The calling process, its user or the host ran out of something a launch needs: open
 * files (`EMFILE`, `ENFILE`), processes (`EAGAIN` from fork) or memory (`ENOMEM`). The
 * message says which limit it was and how to raise it. Nothing of the sandbox is left
 * behind, and a launch can succeed again once other sandboxes have ended.
 */
export class ResourceExhaustedError extends SandboxError {
  /** What ran out. */
  readonly resource: ExhaustedResource
  /** The `errno` name the kernel gave, such as `EMFILE`. */
  readonly errno: string
  constructor(
    resource: ExhaustedResource,
    errno: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_RESOURCE_EXHAUSTED', message, options)
    this.resource = resource
    this.errno = errno
  }
}

/**
 * A sandboxed test file asked its runner, on the host, to read or write a path that its
 * sandbox itself cannot (a `hide` path, the host's `/proc`, a read-only runner file).
 */
export class HostAccessError extends SandboxError {
  /** The host path that was asked for. */
  readonly path: string
  /** The option that keeps the sandbox from it, such as `hide`. */
  readonly option: string
  constructor(path: string, option: string, message: string) {
    super('ERR_HOST_ACCESS', message)
    this.path = path
    this.option = option
  }
}

/** A sandbox sent its runner more than a cap allows: one message, or console output. */
export class MessageLimitError extends SandboxError {
  /** The cap's option name: `maxMessageSize` or `maxConsoleSize`. */
  readonly option: string
  /** The cap, in bytes. */
  readonly limitBytes: number
  constructor(option: string, limitBytes: number, message: string) {
    super('ERR_MESSAGE_LIMIT', message)
    this.option = option
    this.limitBytes = limitBytes
  }
}

/**
 * Tells whether a value is a {@link SandboxError}, across VM contexts and package copies.
 *
 * @example
 * ```ts
 * const error = await run('x', [], { network: 'wifi' as never }).catch((e) => e)
 * isSandboxError(error) // true, error.code === 'ERR_INVALID_OPTION'
 * ```
 */
export function isSandboxError(value: unknown): value is SandboxError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[brand] === true
  )
}
