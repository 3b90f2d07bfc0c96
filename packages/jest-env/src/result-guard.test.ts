import { HostAccessGuard } from '@nsbox/core/runner'
import { describe, expect, it } from 'vitest'
import { ResultGuard } from './result-guard.js'

const secrets = '/srv/nsbox-guard-test/secrets'
const guard = (maxConsoleBytes = 1024) =>
  new ResultGuard(
    new HostAccessGuard(
      { hide: [secrets] },
      { cwd: '/srv/p', file: '/usr/bin/node', args: [] },
      'tests/a.test.js',
    ),
    maxConsoleBytes,
    'tests/a.test.js',
  )

describe('ResultGuard', () => {
  it('fails a file whose coverage names a file its sandbox cannot read', () => {
    const babel = { type: 'result', result: { coverage: { [`${secrets}/key`]: {} } } } as const
    expect(guard().check(babel)).toMatchObject({ error: { code: 'ERR_HOST_ACCESS' } })
    const v8 = {
      type: 'result',
      result: { v8Coverage: [{ result: { url: 'file:///proc/self/environ' } }] },
    } as const
    expect(guard().check(v8)).toMatchObject({ error: { code: 'ERR_HOST_ACCESS' } })
    const own = { type: 'result', result: { coverage: { '/srv/p/src/a.js': {} } } } as const
    expect(guard().check(own)).toEqual({ message: own })
  })

  it('fails a file over its console cap, naming maxConsoleSize', () => {
    const chatty = { type: 'result', result: { console: [{ message: 'x'.repeat(2000) }] } } as const
    expect(guard().check(chatty)).toMatchObject({
      error: { code: 'ERR_MESSAGE_LIMIT', option: 'maxConsoleSize' },
    })
  })

  it("redacts a failure's stack frames that name hidden files", () => {
    const failure = {
      type: 'failure',
      error: { message: 'no', stack: `Error: no\n    at (${secrets}/key:1:1)` },
    } as const
    expect(guard().check(failure)).toEqual({
      message: {
        ...failure,
        error: { ...failure.error, stack: 'Error: no\n    at ([path hidden by nsbox]:1:1)' },
      },
    })
  })
})
