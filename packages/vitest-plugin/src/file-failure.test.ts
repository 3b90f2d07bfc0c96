import { describe, expect, it } from 'vitest'
import { fileFailureMessages, fileTaskOf } from './file-failure.js'

const task = { id: 'f1', filepath: '/p/a.test.ts', meta: {} }
const error = {
  name: 'SandboxLimitError',
  message: 'nsbox: a.test.ts was killed: memory limit 1 GiB exceeded',
}

describe('fileFailureMessages', () => {
  it('fails a collected file as that file, then ends its task', () => {
    const messages = fileFailureMessages({ task, isCollected: true, isKnown: true }, error)
    expect(messages).toEqual([
      {
        t: 'q',
        m: 'onTaskUpdate',
        a: [
          [
            [
              'f1',
              {
                state: 'fail',
                errors: [{ ...error, stack: `SandboxLimitError: ${error.message}` }],
              },
              {},
            ],
          ],
          [['f1', 'suite-finished', undefined]],
        ],
      },
      { __vitest_worker_response__: true, type: 'testfileFinished' },
    ])
  })

  it('queues a file Vitest never heard of and fails it early', () => {
    const [queued, update] = fileFailureMessages(
      { task, isCollected: false, isKnown: false },
      error,
    ) as [{ m: string }, { a: [unknown, Array<[string, string]>] }]
    expect(queued.m).toBe('onQueued')
    expect(update.a[1][0]?.[1]).toBe('suite-failed-early')
  })
})

describe('fileTaskOf', () => {
  it('finds the File task in onQueued and onCollected events, and nothing elsewhere', () => {
    expect(fileTaskOf({ t: 'q', m: 'onQueued', a: [task] })).toEqual({ task, isCollected: false })
    expect(fileTaskOf({ t: 'q', m: 'onCollected', a: [[task]], i: 'x' })).toEqual({
      task,
      isCollected: true,
    })
    expect(fileTaskOf({ t: 'q', m: 'onTaskUpdate', a: [[], []] })).toBeNull()
    expect(fileTaskOf({ __vitest_worker_response__: true, type: 'started' })).toBeNull()
  })
})
