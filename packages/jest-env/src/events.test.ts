import { describe, expect, it } from 'vitest'
import { RunnerEvents } from './events.js'
import { serializeContext } from './protocol.js'

describe('RunnerEvents', () => {
  it('settles emit only after every async listener has, and stops after unsubscribe', async () => {
    const events = new RunnerEvents()
    const seen: string[] = []
    const unsubscribe = events.on('test-case-result', async ([path]) => {
      await new Promise((resolve) => setTimeout(resolve, 10))
      seen.push(path)
    })
    await events.emit('test-case-result', ['a.test.js', {} as never])
    expect(seen).toEqual(['a.test.js'])
    unsubscribe()
    await events.emit('test-case-result', ['b.test.js', {} as never])
    expect(seen).toEqual(['a.test.js'])
  })
})

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
