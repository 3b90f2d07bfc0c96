import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { discoverCgroups } from '../cgroup/discover.js'
import type { EnforcementBackend } from '../cgroup/enforcement.js'
import type { CgroupBackend, LimitController } from '../cgroup/sandbox-cgroup.js'
import { isSandboxError, UsernsBlockedError, type UsernsBlocker } from '../errors.js'
import { run } from '../launch/run.js'
import { findExecutable, unshareProblem, versionOf } from './tools.js'

/** A program nsbox uses, as found on this host. */
export interface ToolSupport {
  /** Absolute path, or `null` when it is missing. */
  path: string | null
  /** Its version as it reports it, or `null`. */
  version: string | null
  /** Why it cannot serve nsbox (an `unshare` that is not util-linux's 2.32 or newer), or `null`. */
  problem: string | null
}

/** What this host supports, as found by {@link probe}. */
export interface HostSupport {
  /** Whether a sandbox can start here at all. */
  canSandbox: boolean
  /** Unprivileged user namespaces: whether they work, and if not, why and how to fix it. */
  userNamespaces:
    | { works: true }
    | {
        works: false
        blockedBy: UsernsBlocker | 'missing-tool' | 'unsupported-platform' | 'other'
        /** The error nsbox raised when it tried, with its own advice. */
        message: string
        /** The command that fixes it, when one is known. */
        fix: string | null
      }
  /** Cgroups: what would enforce each limit here, and what to do when a cgroup is missing. */
  cgroups: CgroupSupport
  /** The programs a launch uses. */
  tools: { unshare: ToolSupport; perl: ToolSupport }
  /** Kernel release (`uname -r`). */
  kernel: string
  /** CPU architecture, as Node.js names it. */
  arch: string
}

/** What {@link probe} found about cgroups for this process. */
export interface CgroupSupport {
  /** The cgroup version of the `memory` controller (hybrid hosts: 1), or `null` without cgroups. */
  version: 1 | 2 | null
  /** The backend nsbox uses for limits here, or `null` when no cgroup is writable. */
  backend: CgroupBackend | null
  /** This process's own cgroup (v2) or `memory` cgroup (v1). */
  currentCgroup: string | null
  /**
   * The transient systemd user scope (`Delegate=yes`) nsbox moved this process into, since
   * its own cgroup v2 cgroup was not delegated; `null` when it needed none (or could not
   * get one: see `missing`). `NSBOX_SYSTEMD_SCOPE=0` turns the scope off.
   */
  systemdScope: string | null
  /** Where sandbox cgroups are created. */
  sandboxParents: string[]
  /** The controllers nsbox can use for limits there. */
  controllers: LimitController[]
  /** What enforces each limit with the default `enforce: 'best-effort'`. */
  limits: { memory: EnforcementBackend; pids: EnforcementBackend; cpus: CgroupBackend | null }
  /** Why a cgroup limit is missing, and the command that fixes it; `null` when none is. */
  missing: { reason: string; fix: string } | null
}

const exec = promisify(execFile)

/**
 * Finds out what this host supports by starting a real sandbox, and explains what is
 * missing. Never throws for an unsupported host: it reports.
 *
 * @example
 * ```ts
 * import { probe } from '@nsbox/core'
 *
 * const support = await probe()
 * if (!support.userNamespaces.works) console.error(support.userNamespaces.fix)
 * ```
 */
export async function probe(): Promise<HostSupport> {
  const [unshare, perl, kernel] = await Promise.all([
    unshareSupport(),
    toolSupport('perl', ['-e', 'print $^V']),
    exec('uname', ['-r']).then(
      (output) => output.stdout.trim(),
      () => 'unknown',
    ),
  ])
  const userNamespaces = await tryUserNamespaces()
  return {
    canSandbox: userNamespaces.works,
    userNamespaces,
    cgroups: cgroupSupport(),
    tools: { unshare, perl },
    kernel,
    arch: process.arch,
  }
}

async function tryUserNamespaces(): Promise<HostSupport['userNamespaces']> {
  try {
    const result = await run('true', [], {
      timeout: '20s',
      extendEnv: false,
      env: { PATH: '/usr/bin:/bin' },
      cwd: '/',
    })
    if (result.exitCode === 0) return { works: true }
    return {
      works: false,
      blockedBy: 'other',
      message: `a test sandbox running \`true\` ended with ${result.exitCode ?? result.signal}: ${result.stderr.trim()}`,
      fix: null,
    }
  } catch (error) {
    if (!isSandboxError(error)) throw error
    if (error instanceof UsernsBlockedError) {
      return { works: false, blockedBy: error.blockedBy, message: error.message, fix: error.fix }
    }
    return {
      works: false,
      blockedBy:
        error.code === 'ERR_MISSING_TOOL'
          ? 'missing-tool'
          : error.code === 'ERR_UNSUPPORTED_PLATFORM'
            ? 'unsupported-platform'
            : 'other',
      message: error.message,
      fix: null,
    }
  }
}

function cgroupSupport(): CgroupSupport {
  const discovery = discoverCgroups()
  const bases = discovery.bases
  const controllers = bases ? [...bases.limits] : []
  const backendFor = (controller: LimitController) =>
    bases?.limits.has(controller) ? bases.backend : null
  return {
    version: discovery.version,
    backend: bases?.backend ?? null,
    currentCgroup: discovery.currentDir,
    systemdScope: discovery.systemdScope,
    sandboxParents: bases ? [...new Set(Object.values(bases.bases))] : [],
    controllers,
    limits: {
      memory: backendFor('memory') ?? 'watchdog',
      pids: backendFor('pids') ?? 'watchdog',
      cpus: backendFor('cpu'),
    },
    missing: discovery.missing,
  }
}

async function toolSupport(name: string, versionArgs: string[]): Promise<ToolSupport> {
  const path = findExecutable(name)
  if (!path) return { path: null, version: null, problem: null }
  const version = await exec(path, versionArgs, { env: {} }).then(
    (output) => output.stdout.trim().split('\n')[0] ?? null,
    () => null,
  )
  return { path, version, problem: null }
}

async function unshareSupport(): Promise<ToolSupport> {
  const path = findExecutable('unshare')
  if (!path) return { path: null, version: null, problem: null }
  const version = versionOf(path)
  return {
    path,
    version: version?.trim() || null,
    problem: version === undefined ? null : unshareProblem(version),
  }
}
