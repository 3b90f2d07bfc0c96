import { describe, expect, it } from 'vitest'
import { describeKill, killReason } from './kill-reason.js'

const limits = { timeoutMs: 30_000, memoryBytes: 256 * 1024 ** 2, pids: 64 }

describe('describeKill', () => {
  it('names the limit, its value and the peak', () => {
    const result = { killedBy: 'memory' as const, memoryPeak: 256 * 1024 ** 2, pidsPeak: 3 }
    expect(describeKill(result, limits)).toBe('memory limit 256 MiB exceeded (peak 256.0 MiB)')
    expect(describeKill({ ...result, killedBy: 'pids' }, limits)).toBe('pids limit 64 reached')
    expect(describeKill({ ...result, killedBy: 'timeout' }, limits)).toBe('timeout 30 s exceeded')
  })

  it('says nothing when no limit ended the sandbox', () => {
    expect(describeKill({ killedBy: null, memoryPeak: null, pidsPeak: null }, limits)).toBe(
      undefined,
    )
  })
})

describe('killReason', () => {
  it('takes the options run() was given, maxOutput and input included', () => {
    const result = { killedBy: 'memory' as const, memoryPeak: 64 * 1024 ** 2, pidsPeak: null }
    expect(killReason(result, { memory: '64M', maxOutput: '1M', input: 'x' })).toBe(
      'memory limit 64 MiB exceeded (peak 64.0 MiB)',
    )
    expect(killReason({ ...result, killedBy: 'timeout' }, { timeout: '2s', stdio: 'pipe' })).toBe(
      'timeout 2 s exceeded',
    )
  })
})
