import type { SandboxSpec, StdioSlot } from '../options/types.js'
import { type HostFacts, planInit } from '../plan/init-plan.js'
import { resolveLauncherTools } from '../probe/tools.js'
import { debug, isDebugEnabled } from './debug.js'
import { atProcessExit } from './exit-cleanup.js'
import type { FilesystemFacts } from './filesystem-facts.js'
import { gatherHostFacts } from './host-facts.js'
import { LauncherProcess, type LaunchShape } from './launcher-process.js'
import { SandboxLimits } from './limits.js'
import { prepareSpare, takeSpare } from './spares.js'

/** How a launch connects the command's standard streams. */
export interface LaunchIo {
  stdio: [StdioSlot, StdioSlot, StdioSlot]
  ipc: boolean
  serialization: 'json' | 'advanced'
}

/** What a launch knows before anything of it starts. */
export interface PreparedLaunch {
  spec: SandboxSpec
  limits: SandboxLimits
  host: HostFacts
  plan: string[]
  shape: LaunchShape
  tools: ReturnType<typeof resolveLauncherTools>
}

/**
 * Everything of a launch that starts nothing: the tools, how the limits are enforced, the
 * host facts and the plan. Quick (no fork); throws `ERR_INVALID_OPTION`,
 * `ERR_MISSING_TOOL` or `ERR_LIMIT_UNAVAILABLE` while the caller can still be told at once.
 */
export function prepareLaunch(spec: SandboxSpec, io: LaunchIo): PreparedLaunch {
  const tools = resolveLauncherTools()
  const limits = new SandboxLimits(spec)
  const host = gatherHostFacts(spec, { enabled: io.ipc, serialization: io.serialization })
  const plan = planInit(spec, host)
  if (isDebugEnabled()) debug(`plan: ${plan.filter((token) => !token.includes('=')).join(' ')}`)
  const shape: LaunchShape = {
    network: spec.network,
    stdio: io.stdio,
    ipc: io.ipc,
    serialization: io.serialization,
    cgroup: limits.cgroupShape,
  }
  return { spec, limits, host, plan, shape, tools }
}

/**
 * A launcher for a prepared launch (a spare when one of its shape waits), with its
 * cgroup's limits written, claimed for this sandbox, and the next spare asked for. Throws
 * what failed; nothing of the launch is left then. Returns the launcher and the function
 * that cancels its removal at process exit.
 */
export function startLauncher(prepared: PreparedLaunch): {
  launcher: LauncherProcess
  forgetAtExit: () => void
} {
  const { shape, tools, limits } = prepared
  const launcher = takeSpare(shape) ?? LauncherProcess.start(shape, tools)
  // The sandbox would end with this process anyway; its cgroup has to be removed.
  const forgetAtExit = launcher.cgroup ? atProcessExit(() => launcher.endNow()) : () => {}
  try {
    limits.adopt(launcher.cgroup)
  } catch (error) {
    forgetAtExit()
    void launcher.discard()
    throw error
  }
  prepareSpare(shape, tools)
  launcher.claim()
  return { launcher, forgetAtExit }
}

/** The option (`rw`, `ro`, `hide`) that named `path`, for a setup step's error. */
export function optionOfPath(filesystem: FilesystemFacts, path: string): string | undefined {
  const lists = [
    ['rw', filesystem.rw],
    ['ro', filesystem.ro],
    ['hide', filesystem.hide],
  ] as const
  return lists.find(([, facts]) => facts.some((fact) => fact.path === path))?.[0]
}
