import { onExit } from 'signal-exit'

const cleanups = new Set<() => void>()
let stopListening: (() => void) | null = null

/**
 * Runs `cleanup` when this process exits, or is ended by a signal it has no handler of
 * its own for (SIGINT, SIGTERM, SIGHUP…, which then still end it). Only synchronous work
 * can happen there. Returns the function that cancels it. Nothing runs on SIGKILL: what
 * is left then is removed by a later start (see `reapStaleCgroupsSoon`).
 */
export function atProcessExit(cleanup: () => void): () => void {
  cleanups.add(cleanup)
  stopListening ??= onExit(() => {
    for (const each of cleanups) each()
    cleanups.clear()
  })
  return () => {
    cleanups.delete(cleanup)
    // With nothing left to clean up for a while, the process's signals are left as they
    // were; not at once, since launches come in runs.
    if (cleanups.size === 0) setTimeout(stopIfIdle, 1000).unref()
  }
}

function stopIfIdle(): void {
  if (cleanups.size > 0) return
  stopListening?.()
  stopListening = null
}
