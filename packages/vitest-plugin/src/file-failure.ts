/** What the pool knows of the File task the worker reported for the running test file. */
export interface TrackedFile {
  /** The task object the worker sent (`onQueued` / `onCollected`), or one nsbox built. */
  task: { id: string; filepath: string } & Record<string, unknown>
  /** Whether the worker had collected the file's tests before it died. */
  isCollected: boolean
  /** Whether Vitest has heard of the task at all (else it must be queued first). */
  isKnown: boolean
}

/** A birpc event message, as a Vitest worker sends them (`t: 'q'`, no id: no reply expected). */
export interface RpcEvent {
  t: 'q'
  m: string
  a: unknown[]
}

/**
 * The messages a Vitest worker would have sent had it failed the file itself: they make
 * the file fail as that file, in every reporter, with `error` as its error, and end the
 * task. Pure.
 */
export function fileFailureMessages(
  file: TrackedFile,
  error: { name: string; message: string },
): unknown[] {
  const serialized = { ...error, stack: `${error.name}: ${error.message}` }
  const messages: unknown[] = []
  if (!file.isKnown) messages.push(rpcEvent('onQueued', [file.task]))
  const event = file.isCollected ? 'suite-finished' : 'suite-failed-early'
  messages.push(
    rpcEvent('onTaskUpdate', [
      [[file.task.id, { state: 'fail', errors: [serialized] }, file.task.meta ?? {}]],
      [[file.task.id, event, undefined]],
    ]),
  )
  messages.push({ __vitest_worker_response__: true, type: 'testfileFinished' })
  return messages
}

/** Reads the File task out of a worker's rpc event, when the event carries one. */
export function fileTaskOf(
  message: unknown,
): { task: TrackedFile['task']; isCollected: boolean } | null {
  if (typeof message !== 'object' || message === null) return null
  const { t, m, a } = message as Partial<RpcEvent>
  if (t !== 'q' || !Array.isArray(a)) return null
  if (m === 'onQueued' && isTask(a[0])) return { task: a[0], isCollected: false }
  if (m === 'onCollected' && Array.isArray(a[0]) && isTask(a[0][0])) {
    return { task: a[0][0], isCollected: true }
  }
  return null
}

function rpcEvent(method: string, args: unknown[]): RpcEvent {
  return { t: 'q', m: method, a: args }
}

function isTask(value: unknown): value is TrackedFile['task'] {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { id?: unknown }).id === 'string' &&
    typeof (value as { filepath?: unknown }).filepath === 'string'
  )
}
