import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { debug } from '../launch/debug.js'
import { findExecutable } from '../probe/tools.js'
import {
  isInScope,
  type SystemdScopeFacts,
  scopeUnitName,
  startScopeArgs,
} from './systemd-scope-plan.js'

// How long the manager may take to move this process once it has accepted the call: the
// user manager hands the move to the system manager, which carries it out asynchronously.
const MOVE_WAIT_MS = 5000
const PAUSE = new Int32Array(new SharedArrayBuffer(4))

/** Reads the facts {@link decideSystemdScope} needs from this process's environment. */
export function readSystemdScopeFacts(env: NodeJS.ProcessEnv = process.env): SystemdScopeFacts {
  const runtimeDir = env.XDG_RUNTIME_DIR
  const busAddress = env.DBUS_SESSION_BUS_ADDRESS
  const busPath = busAddress?.match(/^unix:path=([^,;]+)/)?.[1]
  return {
    isTurnedOff: env.NSBOX_SYSTEMD_SCOPE === '0',
    uid: process.getuid?.() ?? 0,
    hasUserManager: runtimeDir !== undefined && existsSync(`${runtimeDir}/systemd/private`),
    hasUserBus:
      busPath !== undefined
        ? existsSync(busPath)
        : busAddress !== undefined || (runtimeDir !== undefined && existsSync(`${runtimeDir}/bus`)),
    busctl: findExecutable('busctl') ?? null,
  }
}

/**
 * Asks the user's systemd manager, in one D-Bus call, to move this process into a new
 * transient scope with `Delegate=yes`, and waits until it is there. The scope ends, and is
 * removed, once this process and its sandboxes are gone. Blocking (once per process,
 * tens of milliseconds). Returns the scope's unit name; throws an `Error` saying what
 * went wrong.
 */
export function enterSystemdScope(busctl: string): string {
  const unit = scopeUnitName(process.pid, Date.now())
  const startedAt = performance.now()
  try {
    execFileSync(busctl, startScopeArgs(unit, process.pid), {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15_000,
    })
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim()
    throw new Error(
      `the user's systemd manager did not start a delegated scope (${stderr || (error as Error).message})`,
      { cause: error },
    )
  }
  const deadline = performance.now() + MOVE_WAIT_MS
  while (!isInScope(readFileSync('/proc/self/cgroup', 'utf8'), unit)) {
    if (performance.now() > deadline) {
      throw new Error(
        `the user's systemd manager started ${unit} but did not move this process into it within ${MOVE_WAIT_MS / 1000} s`,
      )
    }
    Atomics.wait(PAUSE, 0, 0, 1)
  }
  debug(
    `cgroup: moved into the systemd user scope ${unit} in ${(performance.now() - startedAt).toFixed(1)} ms`,
  )
  return unit
}
