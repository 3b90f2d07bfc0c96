/**
 * Launchers start here, one per turn of the event loop. Starting one blocks the loop for
 * about as long as a bare `child_process.spawn()` (the fork, and the wait for the child's
 * exec), which grows with load: a burst of launches started in one turn would hold every
 * timer back, other sandboxes' timeouts among them, for the whole burst.
 */
const waiting: (() => void)[] = []
let isScheduled = false

/** Runs `start` in its turn, after the launches asked for before it. */
export function enqueueLaunch(start: () => void): void {
  waiting.push(start)
  if (isScheduled) return
  isScheduled = true
  setImmediate(startNext)
}

function startNext(): void {
  const start = waiting.shift()
  // The next one in a later turn: timers and I/O run in between.
  if (waiting.length > 0) setImmediate(startNext)
  else isScheduled = false
  start?.()
}
