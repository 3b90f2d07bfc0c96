import type { LauncherTools } from '../plan/launcher.js'
import { debug } from './debug.js'
import { atProcessExit } from './exit-cleanup.js'
import { enqueueLaunch } from './launch-queue.js'
import { LauncherProcess, type LaunchShape, shapeKey } from './launcher-process.js'

/** How long an unused spare launcher waits before it is ended. */
const SPARE_IDLE_MS = 3000

// One spare per shape, for this many shapes: a test run launches one or two shapes.
const MAX_SHAPES = 4

interface Spare {
  launcher: LauncherProcess
  timer: NodeJS.Timeout
  /** Cancels its removal when this process exits. */
  forget: () => void
}

const spares = new Map<string, Spare>()
let isEnabledHere = true

/**
 * Whether launches keep a spare launcher of their shape started ahead of need: unless
 * `NSBOX_SPARES=0`, or a one-shot caller (the CLI) turned them off.
 */
function sparesEnabled(): boolean {
  return isEnabledHere && process.env.NSBOX_SPARES !== '0'
}

/** Turns spares off for this process, for callers that launch a single sandbox. */
export function disableSpares(): void {
  isEnabledHere = false
}

/** The spare launcher of this shape, when one is waiting; it is then the caller's. */
export function takeSpare(shape: LaunchShape): LauncherProcess | null {
  const key = shapeKey(shape)
  const spare = spares.get(key)
  if (!spare) return null
  spares.delete(key)
  clearTimeout(spare.timer)
  spare.forget()
  if (spare.launcher.isWaiting) return spare.launcher
  void spare.launcher.discard()
  return null
}

/**
 * Starts a spare launcher of this shape soon, unless one is waiting: the next launch of
 * the same shape then skips starting `unshare` and Perl, and entering the cgroup.
 */
export function prepareSpare(shape: LaunchShape, tools: LauncherTools): void {
  if (!sparesEnabled() || spares.has(shapeKey(shape))) return
  // In a turn of its own, after the launches already waiting for theirs.
  enqueueLaunch(() => {
    const key = shapeKey(shape)
    if (!sparesEnabled() || spares.has(key)) return
    let launcher: LauncherProcess
    try {
      launcher = LauncherProcess.start(shape, tools)
    } catch (error) {
      debug(`no spare launcher: ${(error as Error).message}`)
      return
    }
    launcher.idle()
    if (spares.size >= MAX_SHAPES) retire(spares.keys().next().value as string)
    const timer = setTimeout(() => retire(key), SPARE_IDLE_MS)
    timer.unref()
    // On exit the init ends by itself (its control socket closes), but its cgroup would
    // stay behind; ended here, where no promise can be awaited, it goes too.
    const forget = atProcessExit(() => launcher.endNow())
    spares.set(key, { launcher, timer, forget })
    // One that could not start, or whose init was killed, goes at once, with its cgroup.
    void launcher.ended.then(() => {
      if (spares.get(key)?.launcher === launcher) void retire(key)
    })
  })
}

/**
 * Ends every spare launcher this process keeps and removes their cgroups. nsbox keeps
 * at most one unused launcher per kind of launch for 3 s after a launch, and ends them
 * when the process exits or a signal ends it; call this to have none left at once, for example before a test
 * checks that nothing of nsbox is running.
 *
 * @example
 * ```ts
 * import { closeSpares, run } from '@nsbox/core'
 *
 * await run('true')
 * await closeSpares() // no nsbox process or cgroup of this process is left
 * ```
 */
export async function closeSpares(): Promise<void> {
  await Promise.all([...spares.keys()].map((key) => retire(key)))
}

function retire(key: string): Promise<void> {
  const spare = spares.get(key)
  if (!spare) return Promise.resolve()
  spares.delete(key)
  clearTimeout(spare.timer)
  spare.forget()
  return spare.launcher.discard()
}
