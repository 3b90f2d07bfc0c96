import { describe, expect, it } from 'vitest'
import { readRefusal, type SandboxView, writeRefusal } from './sandbox-view.js'

const view: SandboxView = {
  hide: [{ path: '/home/u/.ssh', option: 'hide' }],
  ro: [
    { path: '/p/node_modules', option: 'protectRunner' },
    { path: '/opt/tools', option: 'ro' },
  ],
  rw: [
    { path: '/home/u/.ssh/agent', option: 'rw' },
    { path: '/p', option: 'rw' },
  ],
  readOnly: true,
  tmpBinds: ['/tmp/project'],
}

describe('readRefusal', () => {
  it('refuses hidden paths, the host /proc and /dev/shm, and /tmp but what is bound back', () => {
    expect(readRefusal(view, '/home/u/.ssh/id_rsa')).toEqual({
      option: 'hide',
      reason: 'the `hide` option hides /home/u/.ssh',
    })
    expect(readRefusal(view, '/proc/self/environ')?.reason).toMatch(/its own PID space/)
    expect(readRefusal(view, '/dev/shm/x')?.reason).toMatch(/private/)
    expect(readRefusal(view, '/tmp/other/file')?.reason).toMatch(/not bound back/)
    expect(readRefusal(view, '/tmp/project/src/a.ts')).toBeNull()
    expect(readRefusal(view, '/procfs/a')).toBeNull()
  })

  it('serves an rw path inside a hidden one, and everything else', () => {
    expect(readRefusal(view, '/home/u/.ssh/agent/socket')).toBeNull()
    expect(readRefusal(view, '/usr/lib/x')).toBeNull()
  })
})

describe('writeRefusal', () => {
  it('lets the innermost ro or rw path decide, and readOnly the rest', () => {
    expect(writeRefusal(view, '/p/src/a.ts')).toBeNull()
    expect(writeRefusal(view, '/p/node_modules/x.js')?.option).toBe('protectRunner')
    expect(writeRefusal(view, '/opt/tools/bin')?.option).toBe('ro')
    expect(writeRefusal(view, '/etc/passwd')?.option).toBe('readOnly')
    expect(writeRefusal({ ...view, readOnly: false }, '/etc/passwd')).toBeNull()
    expect(writeRefusal(view, '/home/u/.ssh/id_rsa')?.option).toBe('hide')
  })
})
