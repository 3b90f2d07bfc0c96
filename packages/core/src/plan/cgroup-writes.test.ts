import { describe, expect, it } from 'vitest'
import { parseKeyedCounters, planCgroupWrites } from './cgroup-writes.js'

const limits = { memoryBytes: 256 * 1024 ** 2, pids: 64, cpus: 1.5 }

describe('planCgroupWrites', () => {
  it('writes memory with swap off, pids and cpu.max on cgroup v2', () => {
    expect(planCgroupWrites(limits, 2, { canLimitSwap: true })).toEqual([
      { controller: 'memory', file: 'memory.max', value: '268435456' },
      { controller: 'memory', file: 'memory.swap.max', value: '0' },
      { controller: 'pids', file: 'pids.max', value: '64' },
      { controller: 'cpu', file: 'cpu.max', value: '150000 100000' },
    ])
  })

  it('sets the memory limit before memory+swap, and the CFS quota, on cgroup v1', () => {
    expect(planCgroupWrites(limits, 1, { canLimitSwap: true })).toEqual([
      { controller: 'memory', file: 'memory.limit_in_bytes', value: '268435456' },
      { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: '268435456' },
      { controller: 'pids', file: 'pids.max', value: '64' },
      { controller: 'cpu', file: 'cpu.cfs_period_us', value: '100000' },
      { controller: 'cpu', file: 'cpu.cfs_quota_us', value: '150000' },
    ])
  })

  it('skips swap without swap accounting, and limits that are not set', () => {
    const writes = planCgroupWrites({ memoryBytes: 1024, pids: null, cpus: null }, 2, {
      canLimitSwap: false,
    })
    expect(writes).toEqual([{ controller: 'memory', file: 'memory.max', value: '1024' }])
  })
})

describe('parseKeyedCounters', () => {
  it('reads memory.events and memory.oom_control alike', () => {
    const v2 = parseKeyedCounters('low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n')
    expect(v2.get('oom_kill')).toBe(1)
    const v1 = parseKeyedCounters('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n')
    expect(v1.get('oom_kill')).toBe(3)
    expect(parseKeyedCounters('max 5').get('max')).toBe(5)
  })
})
