import { describe, expect, it } from 'vitest'
import { planEnforcement } from './enforcement.js'

const all = new Set(['memory', 'pids', 'cpu'] as const)
const none = { backend: null, limits: new Set<never>(), missing: { reason: 'r', fix: 'f' } }

describe('planEnforcement', () => {
  it('puts every limit in the cgroup when the host has the controllers', () => {
    const plan = planEnforcement({ memoryBytes: 1, pids: 2, cpus: 1 }, 'best-effort', {
      backend: 'cgroup2',
      limits: all,
      missing: null,
    })
    expect(plan).toEqual({
      enforcement: { memory: 'cgroup2', pids: 'cgroup2', cpus: 'cgroup2' },
      usesCgroup: true,
      watchdog: null,
    })
  })

  it('falls back to the watchdog for memory and pids by default', () => {
    const plan = planEnforcement({ memoryBytes: 100, pids: 5, cpus: null }, 'best-effort', none)
    expect(plan).toEqual({
      enforcement: { memory: 'watchdog', pids: 'watchdog' },
      usesCgroup: false,
      watchdog: { memoryBytes: 100, pids: 5 },
    })
  })

  it('mixes backends when only some controllers are writable', () => {
    const plan = planEnforcement({ memoryBytes: 100, pids: 5, cpus: null }, 'best-effort', {
      backend: 'cgroup1',
      limits: new Set(['pids'] as const),
      missing: null,
    })
    expect(plan.enforcement).toEqual({ memory: 'watchdog', pids: 'cgroup1' })
    expect(plan.usesCgroup).toBe(true)
    expect(plan.watchdog).toEqual({ memoryBytes: 100, pids: null })
  })

  it('refuses the watchdog under strict, naming the fix', () => {
    expect(() =>
      planEnforcement({ memoryBytes: 100, pids: null, cpus: null }, 'strict', none),
    ).toThrowError(
      expect.objectContaining({
        code: 'ERR_LIMIT_UNAVAILABLE',
        option: 'memory',
        message: expect.stringContaining('To fix: f'),
      }),
    )
  })

  it('refuses cpus without a cpu controller, whatever the mode', () => {
    expect(() =>
      planEnforcement({ memoryBytes: null, pids: null, cpus: 1 }, 'best-effort', none),
    ).toThrowError(expect.objectContaining({ code: 'ERR_LIMIT_UNAVAILABLE', option: 'cpus' }))
  })

  it('needs no cgroup without limits', () => {
    const plan = planEnforcement({ memoryBytes: null, pids: null, cpus: null }, 'strict', none)
    expect(plan).toEqual({ enforcement: {}, usesCgroup: false, watchdog: null })
  })
})
