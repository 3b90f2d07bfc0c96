import type { Config, Test } from 'jest-runner'
import type { JestModules, ProjectPayload } from './protocol.js'

/**
 * What each project's files need sent to their processes, made once per run and project:
 * the module map's JSON alone can be megabytes in a large project.
 */
export class ProjectPayloads {
  readonly #globalConfig: Config.GlobalConfig
  readonly #modules: (rootDir: string) => JestModules
  readonly #payloads = new WeakMap<Test['context'], ProjectPayload>()

  /** @param modules - Where the Jest of a project's root is. */
  constructor(globalConfig: Config.GlobalConfig, modules: (rootDir: string) => JestModules) {
    this.#globalConfig = globalConfig
    this.#modules = modules
  }

  /** The payload of `test`'s project. */
  of(test: Test): ProjectPayload {
    let payload = this.#payloads.get(test.context)
    if (!payload) {
      const { config, moduleMap } = test.context
      payload = {
        config,
        globalConfig: this.#globalConfig,
        moduleMap: moduleMap.toJSON(),
        modules: this.#modules(config.rootDir),
      }
      this.#payloads.set(test.context, payload)
    }
    return payload
  }
}
