/**
 * @nsbox/jest-env: a Jest runner that runs every test file in its own rootless sandbox,
 * with a memory cap. Jest 29.7 and 30.
 *
 * ```js
 * // jest.config.js, Jest 30.4.1 and later
 * export default { runner: ['@nsbox/jest-env', { memory: '512M' }] }
 * ```
 *
 * @packageDocumentation
 * @module @nsbox/jest-env
 */

import type { Config, TestRunnerContext } from 'jest-runner'
import { NsboxRunner, type NsboxRunnerOptions, resolveRunnerOptions } from './runner.js'

export { DEFAULT_MEMORY } from '@nsbox/core/runner'
export { NsboxRunner, type NsboxRunnerOptions } from './runner.js'

/**
 * A runner class with these options built in, for a runner module of the project's own:
 * the way to give options on Jest 29.7 and on Jest 30 before 30.4.1, whose `runner`
 * setting takes no options. Options given in `runner: [path, { … }]` as well win over
 * these. Throws `ERR_INVALID_OPTION` for a bad option.
 *
 * @example
 * ```js
 * // nsbox.runner.mjs
 * import { createRunner } from '@nsbox/jest-env'
 * export default createRunner({ memory: '512M', timeout: '2m' })
 *
 * // jest.config.js
 * export default { runner: '<rootDir>/nsbox.runner.mjs' }
 * ```
 */
export function createRunner(options: NsboxRunnerOptions): typeof NsboxRunner {
  resolveRunnerOptions(options, 'createRunner()')
  return class extends NsboxRunner {
    constructor(
      globalConfig: Config.GlobalConfig,
      context: TestRunnerContext,
      runnerOptions?: NsboxRunnerOptions,
    ) {
      super(globalConfig, context, { ...options, ...runnerOptions })
    }
  }
}

export default NsboxRunner
