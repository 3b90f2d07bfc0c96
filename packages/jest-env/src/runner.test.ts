import { describe, expect, it } from 'vitest'
import { resolveRunnerOptions } from './runner.js'

describe('resolveRunnerOptions', () => {
  it('defaults to a sandbox per file and the shared runner defaults', () => {
    expect(resolveRunnerOptions(undefined, 'the runner')).toEqual({
      sandbox: { memory: '2G' },
      onUnsupported: 'error',
      boundary: expect.objectContaining({ protectRunner: true, docblock: 'any' }),
      isolate: 'file',
    })
    expect(resolveRunnerOptions({ isolate: 'worker', memory: false }, 'the runner')).toEqual({
      sandbox: {},
      onUnsupported: 'error',
      boundary: expect.objectContaining({ protectRunner: true }),
      isolate: 'worker',
    })
  })

  it('names a bad isolate value and an unknown option', () => {
    expect(() => resolveRunnerOptions({ isolate: 'never' }, 'createRunner()')).toThrowError(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        option: 'isolate',
        message: expect.stringMatching(
          /`isolate` option of createRunner\(\) to be 'file' or 'worker', got "never"/,
        ),
      }),
    )
    expect(() => resolveRunnerOptions({ memroy: '1G' }, 'createRunner()')).toThrowError(
      /unknown option `memroy` for createRunner\(\)\. Known options: .*, isolate\.$/,
    )
  })
})
