import { spawnSync } from 'node:child_process'
import {
  SetupFailedError,
  UnsupportedPlatformError,
  UsernsBlockedError,
  type UsernsBlocker,
} from '../errors.js'
import { namespaceFlags } from '../plan/launcher.js'
import type { HostSupport } from '../probe/probe.js'
import { resolveLauncherTools } from '../probe/tools.js'

/** Why sandboxes cannot start on this host, as a test runner integration reports it. */
export interface HostProblem {
  /** The cause, without the `nsbox: ` prefix. */
  message: string
  /** What blocks user namespaces, when that is the cause. */
  blockedBy: UsernsBlocker | 'missing-tool' | 'unsupported-platform' | 'other' | null
  /** The command that fixes it, when one is known. */
  fix: string | null
}

/**
 * Whether a sandbox's namespaces come up here, with Perl running inside them: a quick
 * synchronous check (a few milliseconds) for integrations that must decide while their
 * configuration loads. `true` is the usual answer; on `false`, `probe()` tells why.
 */
export function namespacesStartSync(): boolean {
  try {
    const { unshare, perl } = resolveLauncherTools()
    const check = spawnSync(unshare, [...namespaceFlags('loopback'), perl, '-e', '1'], {
      cwd: '/',
      env: {},
      stdio: 'ignore',
      timeout: 20_000,
    })
    return check.status === 0
  } catch {
    return false
  }
}

const USERNS_BLOCKERS: readonly string[] = [
  'apparmor',
  'unprivileged_userns_clone',
  'max_user_namespaces',
  'container',
  'unknown',
] satisfies UsernsBlocker[]

/**
 * What stops sandboxes on this host, from `probe()`'s report; `null` when they can
 * start. Pure.
 */
export function hostProblem(
  support: Pick<HostSupport, 'canSandbox' | 'userNamespaces'>,
): HostProblem | null {
  if (support.canSandbox) return null
  const userns = support.userNamespaces
  if (userns.works) {
    return { message: 'sandboxes cannot start on this host.', blockedBy: null, fix: null }
  }
  return {
    message: userns.message.replace(/^nsbox: /, ''),
    blockedBy: userns.blockedBy,
    fix: userns.fix,
  }
}

/**
 * The error a test runner integration fails with at startup under
 * `onUnsupported: 'error'`: `ERR_UNSUPPORTED_PLATFORM` off Linux, `ERR_USERNS_BLOCKED` when
 * user namespaces are blocked (with the cause and the fix), `ERR_SETUP_FAILED` otherwise.
 *
 * @param problem - From {@link hostProblem}.
 * @param howToWarn - How to ask for unsandboxed runs instead, in the runner's own terms,
 *   such as ``pass sandbox({ onUnsupported: 'warn' })``.
 */
export function unsupportedHostError(
  problem: HostProblem,
  howToWarn: string,
): UsernsBlockedError | SetupFailedError | UnsupportedPlatformError {
  if (problem.blockedBy === 'unsupported-platform') {
    return new UnsupportedPlatformError(
      `nsbox: ${problem.message}\nOr ${howToWarn} to run the test files unsandboxed.`,
    )
  }
  const message = `nsbox: ${describeProblem(problem)}\nRun \`npx nsbox doctor\` for details, or ${howToWarn} to run the test files unsandboxed.`
  return problem.blockedBy && USERNS_BLOCKERS.includes(problem.blockedBy)
    ? new UsernsBlockedError(
        problem.blockedBy as UsernsBlocker,
        problem.fix ?? 'npx nsbox doctor',
        message,
      )
    : new SetupFailedError('probe', message)
}

let hasWarned = false

/**
 * Warns once per process, as a Node.js warning with code `NSBOX_UNSANDBOXED`, that test
 * files run without sandboxes (`onUnsupported: 'warn'`), and why.
 */
export function warnUnsandboxed(problem: HostProblem): void {
  if (hasWarned) return
  hasWarned = true
  process.emitWarning(
    `nsbox: ${describeProblem(problem)}; running the test files WITHOUT sandboxes.`,
    { type: 'NsboxWarning', code: 'NSBOX_UNSANDBOXED' },
  )
}

function describeProblem(problem: HostProblem): string {
  const fix =
    problem.fix && !problem.message.includes(problem.fix) ? ` To fix: ${problem.fix}.` : ''
  return `${problem.message}${fix}`
}
