/**
 * The process test files run in: started by the runner inside a sandbox (or plainly, with
 * `onUnsupported: 'warn'`), it runs each file it is sent with Jest's own public runner, in
 * band, and sends back the test-case events and the file's result. Started ahead of its
 * file, it is first told to prepare: it loads what the file will need meanwhile. It ends
 * when the runner says so, or when its IPC channel closes.
 */
import {
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  statSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { Config, Test, TestEvents, TestWatcher } from 'jest-runner'
import { compileCacheDirectory, enableCompileCache } from './compile-cache.js'
import { deferTypeScriptPrograms } from './deferred-program.js'
import type {
  ChildMessage,
  ParentMessage,
  ProjectPayload,
  RunFileRequest,
  SerializableError,
} from './protocol.js'

type TestRunnerClass = typeof import('jest-runner')['default']
interface RuntimeClass {
  createResolver(config: unknown, moduleMap: unknown): unknown
}
interface HasteMapClass {
  getStatic(config: unknown): { getModuleMapFromJSON(json: unknown): unknown }
}
interface TransformModule {
  createScriptTransformer(config: Config.ProjectConfig): Promise<unknown>
}

// The events Jest's test framework streams while a file runs; the file's start and end
// are the parent's to report.
const STREAMED_EVENTS = ['test-case-start', 'test-case-result'] as const
// What a sandbox gives each file fresh, emptied again between files in one sandbox.
const PRIVATE_DIRECTORIES = ['/tmp', '/dev/shm']
const SCRUB_WAIT_MS = 5_000

const require = createRequire(import.meta.url)
// One resolver per project: a worker's files all come from one run, with one module map.
const resolvers = new Map<string, unknown>()
// The project the runner sent last: a run that names none is of this one.
let lastProject: ProjectPayload | undefined
let queue = Promise.resolve()

deferTypeScriptPrograms()
process.on('uncaughtException', (error) => {
  console.error(error.stack ?? error)
  process.exit(1)
})
process.on('disconnect', () => process.exit(0))
process.on('message', (request: ParentMessage) => {
  if (request.type === 'end') {
    queue = queue.then(() => process.exit(0))
    return
  }
  const project = request.type === 'prepare' ? request.project : (request.project ?? lastProject)
  lastProject = project
  if (request.type === 'prepare') {
    // What fails here fails again when the file runs, and is reported then.
    queue = queue.then(() => prepare(request.project).catch(() => undefined))
    return
  }
  queue = queue.then(async () => {
    const outcome = await (project ? runFile(request, project) : Promise.reject(noProject())).catch(
      (error: unknown): ChildMessage => ({ type: 'failure', error: toSerializableError(error) }),
    )
    if (request.scrubIn) scrub(request.scrubIn)
    send(outcome)
  })
})

/**
 * Loads, ahead of the file, what Jest would load only once the file starts: its runner,
 * the project's transformers (Babel, ts-jest and TypeScript), test environment and test
 * framework, and the resolver. Each stays in Node's module cache, where Jest finds it.
 */
async function prepare(project: ProjectPayload): Promise<void> {
  const { config, modules } = project
  useCompileCache(config)
  require(modules.runner)
  resolverFor(project)
  await defaultExport<TransformModule>(require(modules.transform)).createScriptTransformer(config)
  require(config.testEnvironment)
  require(config.testRunner)
}

let isCompileCacheOn = false
function useCompileCache(config: Config.ProjectConfig): void {
  if (isCompileCacheOn) return
  isCompileCacheOn = true
  enableCompileCache(compileCacheDirectory(config.cacheDirectory))
}

async function runFile(request: RunFileRequest, project: ProjectPayload): Promise<ChildMessage> {
  useCompileCache(project.config)
  const Runner = defaultExport<TestRunnerClass>(require(project.modules.runner))
  const { config, globalConfig } = project
  const { context } = request
  const test = {
    path: request.path,
    context: { config, resolver: resolverFor(project) },
  } as unknown as Test
  process.env.JEST_WORKER_ID = String(request.workerId)
  const runner = new Runner(globalConfig, {
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
    outcome ?? { type: 'failure', error: { message: 'nsbox: Jest reported no result.', stack: '' } }
  )
}

function resolverFor(project: ProjectPayload): unknown {
  const { config } = project
  let resolver = resolvers.get(config.id)
  if (!resolver) {
    const Runtime = defaultExport<RuntimeClass>(require(project.modules.runtime))
    const HasteMap = defaultExport<HasteMapClass>(require(project.modules.hasteMap))
    const moduleMap = HasteMap.getStatic(config).getModuleMapFromJSON(project.moduleMap)
    resolver = Runtime.createResolver(config, moduleMap)
    resolvers.set(config.id, resolver)
  }
  return resolver
}

/**
 * Leaves the sandbox as the next file should find it: every other process in it ended
 * (`kill(-1)` spares only this process and the sandbox's init) and its private
 * directories emptied, except what was bound in from the host, which lies on another
 * device. Only ever inside a PID namespace of its own: on the host, `kill(-1)` would end
 * every process of the user.
 */
function scrub(runnerPidNamespace: string): void {
  if (readlinkSync('/proc/self/ns/pid') === runnerPidNamespace) return
  try {
    process.kill(-1, 'SIGKILL')
  } catch {
    // ESRCH: nothing else was running
  }
  waitForOthersToEnd()
  for (const directory of PRIVATE_DIRECTORIES) {
    const device = statSync(directory).dev
    for (const entry of readdirSync(directory)) removeOnDevice(path.join(directory, entry), device)
  }
}

// Removes a path and what is below it on `device` only: a path bound in from the host,
// even deep inside (a dependency tree under /tmp), is another device and stays, and so do
// the directories that lead to it.
function removeOnDevice(entryPath: string, device: number): void {
  const stat = lstatSync(entryPath, { throwIfNoEntry: false })
  if (!stat || stat.dev !== device) return
  if (!stat.isDirectory()) {
    rmSync(entryPath, { force: true })
    return
  }
  for (const entry of readdirSync(entryPath)) removeOnDevice(path.join(entryPath, entry), device)
  try {
    rmdirSync(entryPath)
  } catch {
    // EBUSY, ENOTEMPTY: a mount point, or one lies below
  }
}

// A SIGKILL is delivered asynchronously: the next file must not start while a process of
// the previous one is still on its way out. Waits for every process but this one and the
// init to be gone (a zombie counts as gone: the init reaps it), for 5 s at most.
function waitForOthersToEnd(): void {
  const pause = new Int32Array(new SharedArrayBuffer(4))
  const deadline = Date.now() + SCRUB_WAIT_MS
  while (Date.now() < deadline && othersAlive()) Atomics.wait(pause, 0, 0, 10)
}

function othersAlive(): boolean {
  return readdirSync('/proc').some((entry) => {
    if (!/^\d+$/.test(entry) || entry === '1' || entry === String(process.pid)) return false
    try {
      return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))
    } catch {
      return false // gone meanwhile
    }
  })
}

function noProject(): Error {
  return new Error('nsbox: the runner sent a file to run but no project to run it in.')
}

function send(message: ChildMessage): void {
  process.send?.(message)
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
