/**
 * The process a test file runs in: started by the runner inside the file's sandbox (or
 * plainly, with `onUnsupported: 'warn'`), it runs the one file it is sent with Jest's own
 * public runner, in band, and sends back the test-case events and the file's result.
 */
import { createRequire } from 'node:module'
import type { Test, TestEvents, TestWatcher } from 'jest-runner'
import type { ChildMessage, RunFileRequest, SerializableError } from './protocol.js'

type TestRunnerClass = typeof import('jest-runner')['default']
interface RuntimeClass {
  createResolver(config: unknown, moduleMap: unknown): unknown
}
interface HasteMapClass {
  getStatic(config: unknown): { getModuleMapFromJSON(json: unknown): unknown }
}

// The events Jest's test framework streams while a file runs; the file's start and end
// are the parent's to report.
const STREAMED_EVENTS = ['test-case-start', 'test-case-result'] as const

const require = createRequire(import.meta.url)

process.on('uncaughtException', (error) => {
  console.error(error.stack ?? error)
  process.exit(1)
})

process.once('message', (request: RunFileRequest) => {
  runFile(request).then(finish, (error: unknown) =>
    finish({ type: 'failure', error: toSerializableError(error) }),
  )
})

async function runFile(request: RunFileRequest): Promise<ChildMessage> {
  const Runner = defaultExport<TestRunnerClass>(require(request.modules.runner))
  const Runtime = defaultExport<RuntimeClass>(require(request.modules.runtime))
  const HasteMap = defaultExport<HasteMapClass>(require(request.modules.hasteMap))
  const { config, context } = request
  const moduleMap = HasteMap.getStatic(config).getModuleMapFromJSON(request.moduleMap)
  const test = {
    path: request.path,
    context: { config, resolver: Runtime.createResolver(config, moduleMap) },
  } as unknown as Test
  const runner = new Runner(request.globalConfig, {
    ...(context.changedFiles && { changedFiles: new Set(context.changedFiles) }),
    ...(context.sourcesRelatedToTestsInChangedFiles && {
      sourcesRelatedToTestsInChangedFiles: new Set(context.sourcesRelatedToTestsInChangedFiles),
    }),
  })
  for (const name of STREAMED_EVENTS) {
    runner.on(name, (args: TestEvents[typeof name]) => {
      send({ type: 'event', name, args })
    })
  }
  // Running in band sets JEST_WORKER_ID to 1 just before the file starts; give the file
  // its own slot's id, as Jest's workers have.
  runner.on('test-file-start', () => {
    process.env.JEST_WORKER_ID = String(request.workerId)
  })
  let outcome: ChildMessage | undefined
  runner.on('test-file-success', ([, result]: TestEvents['test-file-success']) => {
    outcome = { type: 'result', result }
  })
  runner.on('test-file-failure', ([, error]: TestEvents['test-file-failure']) => {
    outcome = { type: 'failure', error: toSerializableError(error) }
  })
  const watcher = { isInterrupted: () => false } as unknown as TestWatcher
  await runner.runTests([test], watcher, { serial: true })
  return (
    outcome ?? {
      type: 'failure',
      error: { message: 'nsbox: Jest reported no result.', stack: '' },
    }
  )
}

function send(message: ChildMessage): void {
  process.send?.(message)
}

// The result is the last word: end once it is sent, as Jest's own worker would be ended;
// whatever the file left running dies with the sandbox.
function finish(message: ChildMessage): void {
  process.send?.(message, () => process.exit(0))
}

function defaultExport<T>(module: { default?: T } | T): T {
  return ((module as { default?: T }).default ?? module) as T
}

function toSerializableError(error: unknown): SerializableError {
  if (typeof error === 'string') return { message: error, stack: '', type: 'Error' }
  const { message, stack, code } = (error ?? {}) as Partial<SerializableError>
  return {
    message: String(message ?? error),
    stack: stack ?? '',
    type: 'Error',
    ...(code !== undefined && { code }),
  }
}
