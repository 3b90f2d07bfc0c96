import { ConsoleBudget, HostAccessGuard } from '@nsbox/core/runner'
import { describe, expect, it } from 'vitest'
import { RpcGuard } from './rpc-guard.js'
import { moduleIds } from './rpc-methods.js'

const root = '/srv/nsbox-guard-test/project'
const secrets = '/srv/nsbox-guard-test/secrets'

function guard(maxConsoleBytes = 1024): RpcGuard {
  const access = new HostAccessGuard(
    { hide: [secrets] },
    { cwd: root, file: '/usr/bin/node', args: [] },
    'tests/a.test.ts',
  )
  return new RpcGuard(access, new ConsoleBudget(maxConsoleBytes), root, 'tests/a.test.ts')
}

const call = (m: string, a: unknown[], i = 'id1') => ({ t: 'q', m, a, i })

describe('RpcGuard', () => {
  it('refuses a fetch of a hidden file, naming the path and the option', () => {
    const verdict = guard().fromWorker(call('fetch', [`${secrets}/id_rsa?raw`, undefined, 'x']))
    expect(verdict).toEqual({
      reply: { t: 's', i: 'id1', e: expect.objectContaining({ code: 'ERR_HOST_ACCESS' }) },
    })
    const error = (verdict as { reply: { e: Error } }).reply.e
    expect(error.message).toContain(`read ${secrets}/id_rsa`)
    expect(error.message).toContain('the `hide` option hides')
  })

  it("refuses the host's /proc, and a relative id that leads to a hidden file", () => {
    expect(guard().fromWorker(call('fetch', ['/proc/1/environ?raw']))).toHaveProperty('reply')
    const relative = call('fetch', ['../../secrets/key?raw', `${root}/tests/a.test.ts`])
    expect(guard().fromWorker(relative)).toHaveProperty('reply')
  })

  it('turns an answer that resolved to a hidden file into an error, and passes others', () => {
    const rpc = guard()
    expect(rpc.fromWorker(call('fetch', ['some-package']))).toHaveProperty('forward')
    const answer = rpc.toWorker({ t: 's', i: 'id1', r: { file: `${secrets}/key`, code: 'x' } })
    expect(answer).toMatchObject({ t: 's', i: 'id1', e: { code: 'ERR_HOST_ACCESS' } })
    expect(rpc.fromWorker(call('fetch', ['./b.ts', `${root}/a.ts`], 'id2'))).toHaveProperty(
      'forward',
    )
    const served = { t: 's', i: 'id2', r: { file: `${root}/b.ts`, code: 'y' } }
    expect(rpc.toWorker(served)).toBe(served)
  })

  it('refuses methods it does not know, and fails a file over its console cap', () => {
    expect(guard().fromWorker(call('readAnyFile', ['/etc/shadow']))).toMatchObject({
      reply: { e: { message: expect.stringContaining('`readAnyFile` is not served') } },
    })
    const rpc = guard(10)
    expect(rpc.fromWorker(call('onUserConsoleLog', [{ content: 'short' }]))).toHaveProperty(
      'forward',
    )
    expect(rpc.fromWorker(call('onUserConsoleLog', [{ content: 'too long now' }]))).toMatchObject({
      fail: { code: 'ERR_MESSAGE_LIMIT' },
    })
  })

  it('redacts stack frames of hidden files in errors, keeping the rest', () => {
    const error = new Error('boom')
    error.stack = `Error: boom\n    at f (${secrets}/x.js:1:2)\n    at g (${root}/a.ts:3:4)`
    const verdict = guard().fromWorker(call('onUnhandledError', [error, 'Error'])) as {
      forward: { a: [Error] }
    }
    expect(verdict.forward.a[0]).toBeInstanceOf(Error)
    expect(verdict.forward.a[0].stack).toContain('at f ([path hidden by nsbox]:1:2)')
    expect(verdict.forward.a[0].stack).toContain(`${root}/a.ts:3:4`)
  })

  it('fails a file whose coverage names a hidden file', () => {
    const meta = { coverage: { result: [{ url: `file://${secrets}/x.js` }] } }
    expect(guard().fromWorker(call('onAfterSuiteRun', [meta]))).toMatchObject({
      fail: { code: 'ERR_HOST_ACCESS' },
    })
  })
})

describe('moduleIds', () => {
  it('reads the paths a module id names, and none for bare or virtual ones', () => {
    expect(moduleIds('/@fs/a/b.ts?raw')).toEqual(['/a/b.ts'])
    expect(moduleIds('/src/a.ts', undefined, '/p')).toEqual(['/src/a.ts', '/p/src/a.ts'])
    expect(moduleIds('./b.ts', 'file:///p/a.ts')).toEqual(['/p/b.ts'])
    expect(moduleIds('vitest')).toEqual([])
    expect(moduleIds('\0virtual:x')).toEqual([])
  })
})
