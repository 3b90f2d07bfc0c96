import { describe, expect, it } from 'vitest'
import { serializeContext } from './protocol.js'

describe('serializeContext', () => {
  it('turns the sets of changed files into arrays and leaves out what is not set', () => {
    expect(serializeContext({})).toEqual({})
    expect(
      serializeContext({
        changedFiles: new Set(['/p/a.js']),
        sourcesRelatedToTestsInChangedFiles: new Set(['/p/b.js']),
      }),
    ).toEqual({ changedFiles: ['/p/a.js'], sourcesRelatedToTestsInChangedFiles: ['/p/b.js'] })
  })
})
