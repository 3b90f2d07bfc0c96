import type { Config, TestRunnerContext } from 'jest-runner'

/** Where the running Jest's own modules are, so that the child loads the same ones. */
export interface JestModules {
  /** `jest-runner`'s entry: its public runner class runs the file in band. */
  runner: string
  /** `jest-runtime`'s entry: builds the file's resolver. */
  runtime: string
  /** `jest-haste-map`'s entry: rebuilds the module map Jest sent. */
  hasteMap: string
  /** `@jest/transform`'s entry: loads a project's transformers ahead of its file. */
  transform: string
}

/** What a child needs of a project to run its files, sent once per process and project. */
export interface ProjectPayload {
  config: Config.ProjectConfig
  globalConfig: Config.GlobalConfig
  /** `test.context.moduleMap.toJSON()`. */
  moduleMap: unknown
  modules: JestModules
}

/**
 * Sent to a process started ahead of its file: load Jest's runner, the project's
 * transformers, test environment and test framework, and build the resolver, so that the
 * file starts at once when its turn comes.
 */
export interface PrepareRequest {
  type: 'prepare'
  project: ProjectPayload
}

/** Run this file. */
export interface RunFileRequest {
  type: 'run'
  path: string
  /** Left out when it is the project this process was last sent (prepared for, or ran). */
  project?: ProjectPayload
  context: SerializedRunnerContext
  /** `JEST_WORKER_ID` of this file: its slot among the files running at once, from 1. */
  workerId: number
  /**
   * After the file, end what it left running and empty `/tmp`, but only inside a PID
   * namespace other than this one (the runner's, by `/proc/self/ns/pid`); `null`: never.
   */
  scrubIn: string | null
}

/** Tells a child to exit once it has finished its current file. */
export interface EndRequest {
  type: 'end'
}

/** What the parent sends a child. */
export type ParentMessage = PrepareRequest | RunFileRequest | EndRequest

/** {@link TestRunnerContext} with its sets as arrays, as Jest sends it to its workers. */
export interface SerializedRunnerContext {
  changedFiles?: string[]
  sourcesRelatedToTestsInChangedFiles?: string[]
}

/** An error as Jest's reporters take it. */
export interface SerializableError {
  message: string
  stack: string
  type?: string
  code?: unknown
}

/** What a file's child sends back. */
export type ChildMessage =
  /** A test-case event of Jest's (`test-case-start`, `test-case-result`), as emitted. */
  | { type: 'event'; name: string; args: unknown }
  /** The file's result: Jest's `TestResult`. */
  | { type: 'result'; result: unknown }
  /** The file could not run. */
  | { type: 'failure'; error: SerializableError }

/** Turns Jest's runner context into what crosses the IPC channel. */
export function serializeContext(context: TestRunnerContext): SerializedRunnerContext {
  return {
    ...(context.changedFiles && { changedFiles: [...context.changedFiles] }),
    ...(context.sourcesRelatedToTestsInChangedFiles && {
      sourcesRelatedToTestsInChangedFiles: [...context.sourcesRelatedToTestsInChangedFiles],
    }),
  }
}
